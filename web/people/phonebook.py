"""The phone book: practitioners and organisations, local area first, tap to call or email.

It is a directory of people and services only: no page here says which clients anyone works
with, and nobody mid-signup or deactivated is listed.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from models.organisations import Organisation
from models.practitioners import Practitioner
from web.core import access, audit, directory
from web.core.auth import me, signed_in
from web.core.budgets import PAGE, queries
from web.core.render import page_or_block
from web.core.scopes import my_areas


# The session, the people found (matched in memory, read by id), the audit event: 3 (services
# come from memory too). Beyond it only when something kept is read afresh: the areas after
# they changed (web/core/scopes.py); the colleagues and the organisations, each one statement,
# when the directory's version moved (web/core/colleagues.py).
@queries(PAGE + 2)
@signed_in
async def search(request: Request) -> Response:
    """Search people by name, role or organisation, and services by name or type."""
    q = request.query_params.get("q", "").strip()[:100]
    terms = directory.terms_of(q)
    groups: list[tuple[str, directory.Found]] = []
    if terms:
        areas = (await my_areas(me(request))).mine
        area_ids = [a.id for a in areas] or [me(request).organisation.area_id]  # type: ignore[attr-defined]
        found = await directory.find(terms, area_ids, request.state.directory_version)
        groups = found.groups
        await audit.record_all([directory.searched(request, q, found)])
    return page_or_block(
        request,
        "people/phonebook/search.html",
        {"q": q, "terms": terms, "groups": groups, "per_group": directory.PER_GROUP},
        block="results",
    )


@queries(PAGE)
@signed_in
async def person(request: Request) -> Response:
    """A practitioner's card: who they are and how to reach them. Never their clients."""
    found = await Practitioner.get_or_none(
        access.listed_in_phone_book(), id=request.path_params["practitioner_id"]
    ).select_related("organisation__area", "organisation_vouched_by")
    if found is None:
        raise HTTPException(404)
    return page_or_block(request, "people/phonebook/person.html", {"person": found})


@queries(PAGE)
@signed_in
async def organisation(request: Request) -> Response:
    """A service: its duty contacts and the practitioners who work there."""
    found = await Organisation.get_or_none(
        id=request.path_params["organisation_id"]
    ).select_related("area")
    if found is None:
        raise HTTPException(404)
    people = (
        await Practitioner.filter(access.listed_in_phone_book(), organisation_id=found.id)
        .select_related("organisation", "organisation_vouched_by")
        .order_by("name")
    )
    return page_or_block(
        request, "people/phonebook/organisation.html", {"organisation": found, "people": people}
    )


routes = [
    Route("/people", search, methods=["GET"]),
    Route("/people/{practitioner_id:int}", person, methods=["GET"]),
    Route("/organisations/{organisation_id:int}", organisation, methods=["GET"]),
]
