"""Your profile: who you are, your areas (and whether those of your clients are added), this
device's privacy screen, your passkeys and your signed-in devices."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from tortoise.expressions import Subquery
from tortoise.transactions import in_transaction

from models.auth import PasskeyCredential, Session
from models.family import LISTINGS
from models.practitioners import Practitioner
from models.teams import Membership
from web.core import access, audit, family
from web.core.auth import me, safe_next, signed_in
from web.core.budgets import PAGE, queries
from web.core.cookies import privacy_screen_cookie
from web.core.details import (
    check_areas,
    check_details,
    check_phones,
    councils_by_district,
    save_areas,
)
from web.core.render import page_or_block
from web.core.scopes import my_areas, scope_changed


async def profile_page(
    request: Request,
    errors: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    practitioner = me(request)
    if practitioner.organisation_vouched_by_id is not None:  # type: ignore[attr-defined]
        await practitioner.fetch_related("organisation_vouched_by")
    passkeys = await PasskeyCredential.filter(practitioner=practitioner).order_by("created_at")
    areas = await my_areas(practitioner)
    chosen = [area.id for area in areas.chosen]
    districts = await councils_by_district()
    details = {
        "name": practitioner.name,
        "job_title": practitioner.job_title,
        "phone": practitioner.phone,
        "mobile": practitioner.mobile,
        "areas": chosen,
    }
    return page_or_block(
        request,
        "people/profile/show.html",
        {
            "passkeys": passkeys,
            "errors": errors or {},
            "form": {**details, **(form or {})},
            "districts": districts,
            "chosen_areas": [c for _, councils in districts for c in councils if c.id in chosen],
            "automatic_areas": areas.automatic,
            "saved": request.query_params.get("saved", ""),
            "family_default": family.service_default(practitioner.organisation.service_type),
        },
        status_code=status_code,
    )


@queries(PAGE)
@signed_in
async def show(request: Request) -> Response:
    """Your profile: details, areas, alerts, passkeys, devices."""
    return await profile_page(request)


@queries(PAGE)
@signed_in
async def save_details(request: Request) -> Response:
    """Name, job title and phones, checked as at signup."""
    form = await request.form()
    details, errors = check_details(form)
    phones, phone_errors = check_phones(form)
    errors |= phone_errors
    if errors:
        return await profile_page(request, errors, {**details, **phones}, status_code=422)
    practitioner = me(request)
    practitioner.update_from_dict({**details, **phones})
    async with in_transaction():
        await practitioner.save(update_fields=["name", "job_title", "phone", "mobile"])
        await audit.record(request, "profile.updated")
    return RedirectResponse("/profile?saved=details#details", status_code=303)


@queries(5)
@signed_in
async def save_chosen_areas(request: Request) -> Response:
    """The council areas you chose, which client search looks in first."""
    answers, errors = await check_areas(await request.form())
    if errors:
        return await profile_page(request, errors, answers, status_code=422)
    async with in_transaction():
        await save_areas(me(request), answers["areas"])
        await audit.record(request, "profile.areas", areas=answers["areas"])
    return RedirectResponse("/profile?saved=areas#areas-heading", status_code=303)


@queries(5)
@signed_in
async def save_automatic_areas(request: Request) -> Response:
    """Whether search also looks first in the areas of your clients: someone whose clients
    are all over the state may keep to the areas they chose. A form without JavaScript."""
    sent = (await request.form()).getlist("automatic_areas")
    if sent not in ([], ["on"]):  # a tick sends "on", no tick nothing: anything else is refused
        raise HTTPException(400, "The automatic areas choice was not understood.")
    wanted = sent == ["on"]
    practitioner = me(request)
    async with in_transaction():
        await Practitioner.filter(id=practitioner.id).update(automatic_areas=wanted)
        await scope_changed(practitioner.id)
        await audit.record(request, "profile.areas", automatic=wanted)
    return RedirectResponse("/profile?saved=automatic#automatic-heading", status_code=303)


@queries(PAGE)
@signed_in
async def save_family_listing(request: Request) -> Response:
    """Whether the family's cards list you, unless you choose otherwise on a team."""
    choice = str((await request.form()).get("family_listing", ""))
    if choice not in ("", *LISTINGS):
        raise HTTPException(400, "That choice was not understood.")
    async with in_transaction():
        await Practitioner.filter(id=me(request).id).update(family_listing=choice)
        if choice == "never":  # off the cards of every team that follows this choice
            following = Membership.filter(
                access.current(), practitioner_id=me(request).id, family_listing=""
            ).values("client_id")
            await family.off_cards(me(request).id, Subquery(following))
        await audit.record(request, "profile.updated", family_listing=choice or "usual")
    return RedirectResponse("/profile?saved=family#family-heading", status_code=303)


@queries(PAGE)
@signed_in
async def privacy_screen(request: Request) -> Response:
    """Turn this device's privacy screen on or off (a cookie holding only "on"), then go back
    to the page it was turned from, if that is a path of this site, or to Profile."""
    form = await request.form()
    wanted = form.get("privacy_screen") == "on"
    back = form.get("next")
    target = back if isinstance(back, str) and safe_next(back) == back else "/profile"
    await audit.record(request, "profile.updated", privacy_screen=wanted)
    response = RedirectResponse(target, status_code=303)
    response.headers.append("Set-Cookie", privacy_screen_cookie(request.app.state.settings, wanted))
    return response


@queries(PAGE)
@signed_in
async def devices(request: Request) -> Response:
    """Signed-in devices: every session of yours, this one first."""
    sessions = await Session.filter(practitioner_id=me(request).id).order_by("-last_seen_at")
    current = request.state.session.id
    sessions.sort(key=lambda s: s.id != current)
    return page_or_block(
        request, "people/profile/devices.html", {"sessions": sessions, "current": current}
    )


@queries(PAGE)
@signed_in
async def sign_out_device(request: Request) -> Response:
    """End one of your other sessions."""
    session_id = request.path_params["session_id"]
    ended = await Session.filter(id=session_id, practitioner_id=me(request).id).delete()
    if not ended:
        raise HTTPException(404)
    await audit.record(request, "session.ended", session_id=session_id)
    return RedirectResponse("/profile/devices", status_code=303)


@queries(PAGE)
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
    Route("/profile/details", save_details, methods=["POST"]),
    Route("/profile/areas", save_chosen_areas, methods=["POST"]),
    Route("/profile/automatic-areas", save_automatic_areas, methods=["POST"]),
    Route("/profile/privacy-screen", privacy_screen, methods=["POST"]),
    Route("/profile/family-cards", save_family_listing, methods=["POST"]),
    Route("/profile/devices", devices, methods=["GET"]),
    Route("/profile/devices/{session_id:int}/signout", sign_out_device, methods=["POST"]),
    Route("/profile/devices/signout-others", sign_out_others, methods=["POST"]),
]
