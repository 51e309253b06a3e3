"""Managing practitioners: search, deactivate and reactivate, administrator rights, and
confirming an organisation an inviter vouched for.

The list and the card show who someone is and how their account stands, never their clients
or how many teams they are on (a discreet involvement must stay undetectable); finding them is
`practitioners_search`, whom an administrator reaches `practitioners_scope`.

Each change is a POST form on the card. It asks first for a sign-in within 15 minutes, then
finds the practitioner in reach (404 outside it), refuses what this administrator may not
change (403, saying why), acts in one transaction and audits it (`admin.changed`, with the
organisation's council as its area). Repeating a change already made changes nothing.
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from tortoise.transactions import in_transaction

from models.practitioners import AdminArea, Practitioner
from web.admin.practitioners_scope import grantable, held_areas, in_reach, reach, why_not
from web.admin.practitioners_search import FILTERS, filtered, page_of
from web.admin.rules import (
    admin_page,
    administrator,
    area_choices,
    change_refused,
    changed,
    councils,
    viewed,
)
from web.core import lead
from web.core.auth import me, now
from web.core.budgets import queries
from web.core.forms import MAX_ID, form_int

NOTICES = {
    "deactivated": "Deactivated: they were signed out of every device and cannot sign in.",
    "reactivated": "Reactivated: they can sign in again.",
    "granted": "Their administrator rights are saved.",
    "removed": "Their administrator rights are removed.",
    "confirmed": "Their organisation is confirmed: their cards no longer say who vouched for it.",
    "unchanged": "Nothing needed changing.",
}


@queries(6)
@administrator
async def index(request: Request) -> Response:
    """Practitioners in the administrator's councils, searched and filtered, a page at a time."""
    params = request.query_params
    q = params.get("q", "").strip()[:100]
    chosen = {name for name in FILTERS if params.get(name) == "1"}
    after = form_int(params.get("after"), low=1, high=MAX_ID)
    found = await page_of(filtered(reach(await councils(request)), chosen), q, after)
    query = {"q": q, **{name: "1" for name in sorted(chosen)}}
    await viewed(request, "practitioners", searched=bool(q), filters=sorted(chosen))
    return await admin_page(
        request,
        "admin/practitioners.html",
        {
            "q": q,
            "filters": FILTERS,
            "chosen": chosen,
            "found": found,
            "first_page": after is None,
            "query": {k: v for k, v in query.items() if v},
        },
        block="results",
    )


async def reasons(request: Request, target: Practitioner) -> str:
    return await why_not(me(request), target, await councils(request))


async def offered(request: Request):  # type: ignore[no-untyped-def]
    looked_after = await councils(request)
    return await grantable(looked_after, await area_choices(looked_after))


async def card(
    request: Request,
    target: Practitioner,
    *,
    errors: dict[str, str] | None = None,
    wanted: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    """A practitioner's card with the changes the administrator may make."""
    held = await held_areas(target)
    return await admin_page(
        request,
        "admin/practitioner.html",
        {
            "person": target,
            "held": held,
            "refusal": await reasons(request, target),
            "grantable": await offered(request),
            "wanted": wanted or {"role": target.role, "areas": {a.id for a in held}},
            "errors": errors or {},
            "notice": NOTICES.get(request.query_params.get("done", ""), ""),
        },
        status_code=status_code,
    )


@queries(7)
@administrator
async def show(request: Request) -> Response:
    """One practitioner's card: who they are, their organisation, role and account."""
    target = await in_reach(request.path_params["practitioner_id"], await councils(request))
    await viewed(request, "practitioner", practitioner_id=target.id)
    return await card(request, target)


# -- changes ---------------------------------------------------------------------------------


async def changeable(request: Request, doing: str) -> Practitioner | Response:
    """The practitioner to change, or the page asking for a recent sign-in; 404 outside the
    administrator's reach, 403 when they may not change this one."""
    practitioner_id = request.path_params["practitioner_id"]
    back_to = f"/admin/practitioners/{practitioner_id}"
    if (refusal := change_refused(request, doing, back_to)) is not None:
        return refusal
    target = await in_reach(practitioner_id, await councils(request))
    if reason := await reasons(request, target):
        raise HTTPException(403, reason)
    return target


def done(target: Practitioner, notice: str) -> Response:
    return RedirectResponse(f"/admin/practitioners/{target.id}?done={notice}", status_code=303)


async def audit(request: Request, what: str, target: Practitioner, **detail: object) -> None:
    area_id = target.organisation.area_id
    await changed(request, what, area_id=area_id, practitioner_id=target.id, **detail)


@queries(14)  # with the teams they led told, one each (a handful at most)
@administrator
async def deactivate(request: Request) -> Response:
    """Stop them signing in and sign them out of every device at once; history stays."""
    target = await changeable(request, "To deactivate a practitioner")
    if isinstance(target, Response):
        return target
    if not target.active:
        return done(target, "unchanged")
    async with in_transaction():
        ended = await lead.deactivate(target, request.app.state.settings)
        await audit(request, "practitioner.deactivated", target, sessions_ended=ended)
    return done(target, "deactivated")


@queries(5)
@administrator
async def reactivate(request: Request) -> Response:
    """Let a deactivated practitioner sign in again."""
    target = await changeable(request, "To reactivate a practitioner")
    if isinstance(target, Response):
        return target
    async with in_transaction():
        if not await Practitioner.filter(id=target.id, active=False).update(active=True):
            return done(target, "unchanged")
        await audit(request, "practitioner.reactivated", target)
    return done(target, "reactivated")


async def wanted_rights(
    request: Request, target: Practitioner
) -> tuple[str, set[int], dict[str, str]]:
    """The role and areas the rights form asks for, and what is wrong with them."""
    form = await request.form()
    role = str(form.get("role", "local_admin"))
    chosen = {form_int(raw, low=1, high=MAX_ID) for raw in form.getlist("area_id")}
    errors = {}
    if role not in ("local_admin", "state_admin") or (
        role == "state_admin" and me(request).role != "state_admin"
    ):
        errors["role"] = "Choose local administrator"
    elif role == "local_admin" and not chosen:
        errors["areas"] = "Choose at least one area for them to look after"
    elif role == "local_admin" and not chosen <= (await offered(request)).ids:
        errors["areas"] = "Choose areas from the list: only those you look after"
    if not target.active:
        errors["rights"] = "Reactivate them before making them an administrator"
    elif target.organisation_vouched_only:
        errors["rights"] = "Confirm their organisation before making them an administrator"
    areas = {a for a in chosen if a is not None} if role == "local_admin" else set()
    return role, areas, errors


@queries(11)
@administrator
async def grant(request: Request) -> Response:
    """Make them a local administrator of areas chosen among the administrator's own (or, by
    a state administrator, a state administrator)."""
    target = await changeable(request, "To change someone's administrator rights")
    if isinstance(target, Response):
        return target
    role, areas, errors = await wanted_rights(request, target)
    if errors:
        wanted = {"role": role, "areas": areas}
        return await card(request, target, errors=errors, wanted=wanted, status_code=422)
    async with in_transaction():
        await Practitioner.filter(id=target.id).update(role=role)
        await AdminArea.filter(practitioner_id=target.id).delete()
        await AdminArea.bulk_create(
            [AdminArea(practitioner_id=target.id, area_id=area) for area in sorted(areas)]
        )
        await audit(
            request, "practitioner.admin_granted", target, role=role, area_ids=sorted(areas)
        )
    return done(target, "granted")


@queries(7)
@administrator
async def remove(request: Request) -> Response:
    """Make an administrator a practitioner again: their areas go, at once."""
    target = await changeable(request, "To change someone's administrator rights")
    if isinstance(target, Response):
        return target
    if not target.is_admin:
        return done(target, "unchanged")
    async with in_transaction():
        await Practitioner.filter(id=target.id).update(role="practitioner")
        await AdminArea.filter(practitioner_id=target.id).delete()
        await audit(request, "practitioner.admin_removed", target, role=target.role)
    return done(target, "removed")


@queries(5)
@administrator
async def confirm(request: Request) -> Response:
    """Confirm the organisation an inviter vouched for: cards stop saying who vouched."""
    target = await changeable(request, "To confirm a practitioner's organisation")
    if isinstance(target, Response):
        return target
    async with in_transaction():
        confirming = Practitioner.filter(
            id=target.id,
            organisation_vouched_by_id__isnull=False,
            organisation_confirmed_at__isnull=True,
        )
        if not await confirming.update(organisation_confirmed_at=now()):
            return done(target, "unchanged")
        await audit(
            request,
            "practitioner.organisation_confirmed",
            target,
            organisation_id=target.organisation.id,
            vouched_by_id=target.organisation_vouched_by_id,
        )
    return done(target, "confirmed")


def change(path: str, endpoint: Any) -> Route:
    return Route(f"/admin/practitioners/{{practitioner_id:int}}/{path}", endpoint, methods=["POST"])


routes: list[BaseRoute] = [
    Route("/admin/practitioners", index, methods=["GET"]),
    Route("/admin/practitioners/{practitioner_id:int}", show, methods=["GET"]),
    change("deactivate", deactivate),
    change("reactivate", reactivate),
    change("rights", grant),
    change("rights/remove", remove),
    change("confirm-organisation", confirm),
]
