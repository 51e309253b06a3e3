"""Your profile: who you are, your passkeys and your signed-in devices."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from models.auth import PasskeyCredential, Session
from web import audit
from web.auth import me, signed_in
from web.render import page_or_block


async def profile_page(
    request: Request, errors: dict[str, str] | None = None, status_code: int = 200
) -> Response:
    practitioner = me(request)
    passkeys = await PasskeyCredential.filter(practitioner=practitioner).order_by("created_at")
    return page_or_block(
        request,
        "profile/show.html",
        {"passkeys": passkeys, "errors": errors or {}},
        status_code=status_code,
    )


@signed_in
async def show(request: Request) -> Response:
    """Your profile, with your passkeys."""
    await me(request).fetch_related("organisation")
    return await profile_page(request)


@signed_in
async def devices(request: Request) -> Response:
    """Signed-in devices: every session of yours, this one first."""
    sessions = await Session.filter(practitioner_id=me(request).id).order_by("-last_seen_at")
    current = request.state.session.id
    sessions.sort(key=lambda s: s.id != current)
    return page_or_block(
        request, "profile/devices.html", {"sessions": sessions, "current": current}
    )


@signed_in
async def sign_out_device(request: Request) -> Response:
    """End one of your other sessions."""
    session_id = request.path_params["session_id"]
    ended = await Session.filter(id=session_id, practitioner_id=me(request).id).delete()
    if not ended:
        raise HTTPException(404)
    await audit.record(request, "session.ended", session_id=session_id)
    return RedirectResponse("/profile/devices", status_code=303)


@signed_in
async def sign_out_others(request: Request) -> Response:
    """End every session of yours except this one."""
    ended = (
        await Session.filter(practitioner_id=me(request).id)
        .exclude(id=request.state.session.id)
        .delete()
    )
    await audit.record(request, "session.ended", others=ended)
    return RedirectResponse("/profile/devices", status_code=303)


routes = [
    Route("/profile", show, methods=["GET"]),
    Route("/profile/devices", devices, methods=["GET"]),
    Route("/profile/devices/{session_id:int}/signout", sign_out_device, methods=["POST"]),
    Route("/profile/devices/signout-others", sign_out_others, methods=["POST"]),
]
