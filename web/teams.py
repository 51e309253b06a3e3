"""The team page: who is involved and how to reach them, history, meetings, contact,
inviting a colleague and joining face to face. Members only, discreet members unseen."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import segno
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from models.attentions import Attention
from models.clients import Client
from models.teams import Membership
from web import access, audit
from web.auth import me, now, signed_in
from web.errors import error_page
from web.render import page_or_block
from web.settings import Settings

JOIN_CODE_MINUTES = 10
#: Days after a check-in request before an unconfirmed involvement shows as such.
GRACE_DAYS = 14


async def client_or_404(client_id: int) -> Client:
    client = await Client.get_or_none(id=client_id).select_related("area")
    if client is None:
        raise HTTPException(404)
    return client


def join_this_team(request: Request, client: Client) -> Response:
    """The members-only refusal: no member's name, no count, no attention, no circle."""
    return error_page(
        request,
        403,
        "Only the practitioners on this client's team can see who is involved. If you work "
        "with this client, join the team.",
        title="Join this team to see who is involved",
        action_url=f"/clients/{client.id}/join",
        action_label="Join team",
    )


async def team_or_refusal(request: Request) -> tuple[Client, list[Membership]] | Response:
    """The client and the team as this member sees it (two queries), or the refusal. Both
    the view and the refusal are audited."""
    client = await client_or_404(request.path_params["client_id"])
    practitioner = me(request)
    team = await access.visible_team(practitioner, client.id)
    if not any(m.practitioner_id == practitioner.id for m in team):
        await audit.record(request, "team.refused", client_id=client.id, area_id=client.area_id)
        return join_this_team(request, client)
    await audit.record(
        request,
        "team.viewed",
        client_id=client.id,
        area_id=client.area_id,
        tab=request.url.path.rsplit("/", 1)[-1],
    )
    return client, team


def mine(request: Request, team: list[Membership]) -> Membership:
    return next(m for m in team if m.practitioner_id == me(request).id)


def lapsed_before(settings: Settings) -> datetime:
    """Memberships last confirmed before this show "not confirmed since …" to the team."""
    return now() - timedelta(days=settings.checkin_days + GRACE_DAYS)


def local_today(settings: Settings) -> date:
    return datetime.now(ZoneInfo(settings.time_zone)).date()


@signed_in
async def show(request: Request) -> Response:
    """The Team tab: a card per visible member, and one-tap actions. Four queries at most."""
    found = await team_or_refusal(request)
    if isinstance(found, Response):
        return found
    client, team = found
    others = [m for m in team if m.practitioner_id != me(request).id]
    mailto = "mailto:" + ",".join(quote(m.practitioner.email, safe="@") for m in others)
    return page_or_block(
        request,
        "teams/show.html",
        {
            "client": client,
            "team": team,
            "mine": mine(request, team),
            "mailto": mailto,
            "others": others,
            "tab": "team",
            "notice": request.query_params.get("done", ""),
            "lapsed_before": lapsed_before(request.app.state.settings),
        },
    )


@signed_in
async def history(request: Request) -> Response:
    """The History tab: who was involved when, including those who left, and attentions."""
    client = await client_or_404(request.path_params["client_id"])
    practitioner = me(request)
    if not await access.is_member(practitioner, client.id):
        await audit.record(request, "team.refused", client_id=client.id, area_id=client.area_id)
        return join_this_team(request, client)
    await audit.record(
        request, "team.viewed", client_id=client.id, area_id=client.area_id, tab="history"
    )
    memberships = await Membership.filter(
        access.ever_visible_to(practitioner), client_id=client.id
    ).select_related("practitioner__organisation")
    attentions = await Attention.filter(client_id=client.id).select_related(
        "raised_by", "resolved_by"
    )
    events = access.history_events(practitioner, memberships, attentions)
    return page_or_block(
        request,
        "teams/history.html",
        {
            "client": client,
            "events": events,
            "tab": "history",
        },
    )


@signed_in
async def contact_today(request: Request) -> Response:
    """ "I had contact today": the team sees how recent your contact is."""
    found = await team_or_refusal(request)
    if isinstance(found, Response):
        return found
    client, team = found
    own = mine(request, team)
    await Membership.filter(id=own.id).update(
        last_contact_on=local_today(request.app.state.settings)
    )
    await audit.record(request, "team.contact", client_id=client.id, area_id=client.area_id)
    return RedirectResponse(f"/clients/{client.id}?done=contact", status_code=303)


@signed_in
async def visibility(request: Request) -> Response:
    """A member from a sensitive service chooses to be visible to the team, or discreet."""
    found = await team_or_refusal(request)
    if isinstance(found, Response):
        return found
    client, team = found
    own = mine(request, team)
    wanted = str((await request.form()).get("discreet", "")) == "yes"
    if not (me(request).organisation.sensitive or own.discreet):
        raise HTTPException(403, "Only members from a sensitive service can be discreet.")
    await Membership.filter(id=own.id).update(discreet=wanted)
    await audit.record(
        request, "team.visibility", client_id=client.id, area_id=client.area_id, discreet=wanted
    )
    return RedirectResponse(f"/clients/{client.id}?done=visibility", status_code=303)


# -- joining face to face ---------------------------------------------------------------------


def join_codes(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt="patchwork-join-code")


@signed_in
async def join_code(request: Request) -> Response:
    """A QR code of a signed link, valid 10 minutes, for a colleague standing beside you."""
    found = await team_or_refusal(request)
    if isinstance(found, Response):
        return found
    client, _team = found
    settings: Settings = request.app.state.settings
    token = join_codes(settings).dumps({"client": client.id, "by": me(request).id})
    url = f"{settings.base_url}/join/{token}"
    qr = segno.make(url, error="m")
    svg = qr.svg_inline(
        scale=6,
        border=2,
        dark="#000",
        light="#fff",
        title="QR code to join this team",
        omitsize=True,
    )
    expires = datetime.now(ZoneInfo(settings.time_zone)) + timedelta(minutes=JOIN_CODE_MINUTES)
    await audit.record(request, "team.join_code", client_id=client.id, area_id=client.area_id)
    return page_or_block(
        request,
        "teams/join_code.html",
        {
            "client": client,
            "svg": svg,
            "url": url,
            "expires": expires,
            "tab": "team",
        },
    )


@signed_in
async def use_join_code(request: Request) -> Response:
    """Scanning a join code opens the usual join confirmation (or the team, for a member)."""
    settings: Settings = request.app.state.settings
    try:
        data = join_codes(settings).loads(
            request.path_params["token"], max_age=JOIN_CODE_MINUTES * 60
        )
    except SignatureExpired:
        return error_page(
            request,
            410,
            "Ask your colleague to show a new join code: each one works for 10 minutes.",
            title="This join code has expired",
        )
    except BadSignature:
        raise HTTPException(404) from None
    return RedirectResponse(f"/clients/{int(data['client'])}/join", status_code=303)


routes = [
    Route("/clients/{client_id:int}", show, methods=["GET"]),
    Route("/clients/{client_id:int}/history", history, methods=["GET"]),
    Route("/clients/{client_id:int}/contact", contact_today, methods=["POST"]),
    Route("/clients/{client_id:int}/visibility", visibility, methods=["POST"]),
    Route("/clients/{client_id:int}/join-code", join_code, methods=["GET"]),
    Route("/join/{token}", use_join_code, methods=["GET"]),
]
