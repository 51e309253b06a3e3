"""The in-app notifications page, its unread badge, and each person's alert preferences."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from models.notifications import Notification
from models.practitioners import DELIVERY, Practitioner
from web.core import access, references
from web.core.alerts import SAYS
from web.core.auth import me, now, signed_in, signing_up
from web.core.budgets import PAGE, queries
from web.core.render import page_or_block

CHANNELS = ("notify_in_app", "notify_email", "notify_push")


@queries(PAGE)
@signed_in
async def show(request: Request) -> Response:
    """Your notifications, newest first, with who and which client where you may see them."""
    practitioner = me(request)
    items = (
        await Notification.filter(practitioner_id=practitioner.id)
        .annotate(**access.named_where_visible(practitioner.id))
        .limit(50)
    )
    secret = request.app.state.settings.secret_key
    rows = [
        {
            "notification": n,
            # An invitation was addressed to this practitioner: its link is a fresh reference
            # to the client, so the join page may show who they are.
            "url": references.join_url(secret, practitioner.id, n.client_id)
            if n.kind == "invited_to_team" and n.client_id
            else n.url,
            "says": SAYS.get(n.kind, "Something changed."),
            "client": n.client_name or "",  # type: ignore[attr-defined]
            "actor": n.actor_name or "",  # type: ignore[attr-defined]
        }
        for n in items
    ]
    unread = [n.id for n in items if n.read_at is None]
    if unread:
        await Notification.filter(id__in=unread).update(read_at=now())
        request.state.unread = max(0, request.state.unread - len(unread))
    return page_or_block(
        request, "alerts/notifications.html", {"rows": rows, "unread": set(unread)}
    )


@queries(PAGE)
@signing_up  # signup pages show the badge too
async def badge(request: Request) -> Response:
    """The unread count beside "Notifications", alone: every page carries it already (read
    with the session), so this is only for refreshing it. No query of its own."""
    return page_or_block(request, "alerts/badge.html", block="badge")


@queries(PAGE)
@signed_in
async def preferences(request: Request) -> Response:
    """How each channel alerts you: immediately, in the 07:00 digest, or not at all."""
    practitioner = me(request)
    form = await request.form()
    changes = {c: str(form.get(c)) for c in CHANNELS if str(form.get(c)) in DELIVERY}
    if changes:
        await Practitioner.filter(id=practitioner.id).update(**changes)
    return RedirectResponse("/profile?saved=alerts#alerts", status_code=303)


routes = [
    Route("/notifications", show, methods=["GET"]),
    Route("/notifications/badge", badge, methods=["GET"]),
    Route("/profile/alerts", preferences, methods=["POST"]),
]
