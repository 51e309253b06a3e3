"""Joining face to face: a member shows a QR code, a colleague beside them scans it.

A code is a server-side reference: the link holds a random token (only its SHA-256 is
stored), so it reveals neither the client nor who showed it, and the access log keeps only
`/join/[token]`. Scanning it takes the colleague to the usual join page, with a fresh
reference that lets them see who the client is.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from models.teams import JoinCode
from web.core import audit, clock, references
from web.core.auth import me, now, signed_in, token_hash
from web.core.budgets import PAGE, queries
from web.core.errors import error_page
from web.core.render import page_or_block, qr_svg
from web.core.settings import Settings
from web.teams.team import team_or_refusal, viewed

JOIN_CODE_MINUTES = 10


@queries(PAGE)
@signed_in
async def join_code(request: Request) -> Response:
    """A QR code of a link, valid 10 minutes, for a colleague standing beside you. The view and
    the code's making are audited in one statement."""
    found = await team_or_refusal(request, record_view=False)
    if isinstance(found, Response):
        return found
    client, _team = found
    settings: Settings = request.app.state.settings
    token = secrets.token_urlsafe(32)
    moment = now()
    code = await JoinCode.create(
        token_hash=token_hash(token),
        client=client,
        created_by=me(request),
        created_at=moment,
        expires_at=moment + timedelta(minutes=JOIN_CODE_MINUTES),
    )
    url = f"{settings.base_url}/join/{token}"
    svg = qr_svg(url, "QR code to join this team")
    await audit.record_all(
        [
            viewed(request, client),
            audit.event(
                request,
                "team.join_code",
                client_id=client.id,
                area_id=client.area_id,
                code_id=code.id,
            ),
        ]
    )
    return page_or_block(
        request,
        "teams/join_code.html",
        {
            "client": client,
            "svg": svg,
            "url": url,
            "expires": code.expires_at.astimezone(clock.zone()),
            "tab": "team",
        },
    )


@queries(PAGE)
@signed_in
async def use_join_code(request: Request) -> Response:
    """Scanning a join code opens the usual join confirmation (or the team, for a member)."""
    code = await JoinCode.get_or_none(
        token_hash=token_hash(request.path_params["token"])
    ).select_related("client")
    if code is None:
        raise HTTPException(404)
    if code.expires_at <= now():
        return error_page(
            request,
            410,
            "Ask your colleague to show a new join code: each one works for 10 minutes.",
            title="This join code has expired",
        )
    # Audited without who showed it: they may be discreet.
    await audit.record(
        request,
        "team.join_code_used",
        client_id=code.client_id,
        area_id=code.client.area_id,  # type: ignore[attr-defined]
        code_id=code.id,
    )
    secret = request.app.state.settings.secret_key
    return RedirectResponse(references.join_url(secret, me(request).id, code.client_id), 303)


routes = [
    Route("/clients/{client_id:int}/join-code", join_code, methods=["GET"]),
    Route("/join/{token}", use_join_code, methods=["GET"]),
]
