"""The rules every administration page follows: who is an administrator, which councils they
look after, and what a change needs (a recent sign-in) and leaves (an audit event)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from tortoise.expressions import Q

from models.areas import Area
from models.practitioners import AdminArea
from web.core import audit
from web.core.areas import area_tree
from web.core.auth import Endpoint, me, requires_role
from web.core.reauth import sign_in_again, signed_in_recently
from web.core.render import page_or_block
from web.core.scopes import administered_council_ids

ADMIN_ROLES = ("local_admin", "state_admin")


def administrator(endpoint: Endpoint) -> Endpoint:
    """Only for local and state administrators (checked on the server, every request)."""
    return requires_role(*ADMIN_ROLES)(endpoint)


async def councils(request: Request) -> list[int] | None:
    """The councils the signed-in administrator looks after (None: every one), read once
    per request."""
    if not hasattr(request.state, "admin_councils"):
        request.state.admin_councils = await administered_council_ids(me(request))
    found: list[int] | None = request.state.admin_councils
    return found


def within(looked_after: list[int] | None, field: str = "area_id") -> Q:
    """A filter to the councils looked after: `field` names the council area column."""
    return Q() if looked_after is None else Q(**{f"{field}__in": looked_after})  # type: ignore[arg-type]


async def area_choices(looked_after: list[int] | None) -> list[tuple[Area, list[Area]]]:
    """The districts and their councils an administrator may filter by, in name order (from
    the area tree in memory: no query)."""
    tree = await area_tree()
    councils = tree.of_kind("council")
    if looked_after is not None:
        wanted = set(looked_after)
        councils = [c for c in councils if c.id in wanted]
    districts = tree.named({c.parent_id for c in councils if c.parent_id})  # type: ignore[attr-defined]
    return [
        (district, [c for c in councils if c.parent_id == district.id])  # type: ignore[attr-defined]
        for district in districts
    ]


def change_refused(request: Request, doing: str, back_to: str) -> Response | None:
    """None when the administrator signed in within the last 15 minutes, else the page asking
    them to (`doing`: "To deactivate a practitioner"), which returns to `back_to`."""
    if signed_in_recently(request):
        return None
    return sign_in_again(request, doing, back_to)


async def changed(
    request: Request, what: str, *, area_id: int | None = None, **detail: Any
) -> None:
    """Audit an administrative change: `what` names it ("practitioner.deactivated")."""
    await audit.record(request, "admin.changed", area_id=area_id, what=what, **detail)


async def viewed(request: Request, page: str, action: str = "admin.viewed", **detail: Any) -> None:
    """Audit an administrator looking at a page (or, action "admin.exported", downloading)."""
    await audit.record(request, action, page=page, **detail)


async def scope_label(request: Request) -> str:
    """What the administrator looks after, in words: "Your areas: Brimbank Melton"."""
    if await councils(request) is None:
        state = (await area_tree()).state
        return f"You look after all of {state.name if state else 'the deployment'}."
    held = await AdminArea.filter(practitioner_id=me(request).id).values_list(
        "area__name", flat=True
    )
    return f"You look after {' and '.join(sorted(map(str, held))) or 'no areas yet'}."


async def admin_page(
    request: Request, template: str, values: dict[str, Any] | None = None, **options: Any
) -> Response:
    """An administration page (`templates/admin/…`, extending `admin/base.html`): the page
    or its block, with what the administrator looks after said at the top."""
    context = {"admin_scope_label": await scope_label(request), **(values or {})}
    return page_or_block(request, template, context, **options)
