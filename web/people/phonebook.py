"""The phone book: practitioners and organisations, local area first, tap to call or email.

It is a directory of people and services only: no page here says which clients anyone works
with, and nobody mid-signup or deactivated is listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from operator import and_

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tortoise.expressions import Q

from models.organisations import Organisation
from models.practitioners import Practitioner
from web.core import access
from web.core.auth import me, signed_in
from web.core.budgets import PAGE, queries
from web.core.render import page_or_block
from web.core.scopes import my_areas

PER_GROUP = 20
MAX_TERMS = 5


def terms_of(text: str) -> list[str]:
    return [t for t in text.split() if len(t) >= 2][:MAX_TERMS]


def matching_people(terms: list[str]) -> Q:
    return reduce(
        and_,
        (
            Q(name__icontains=t) | Q(job_title__icontains=t) | Q(organisation__name__icontains=t)
            for t in terms
        ),
    )


def matching_services(terms: list[str]) -> Q:
    return reduce(and_, (Q(name__icontains=t) | Q(service_type__icontains=t) for t in terms))


@dataclass(frozen=True)
class Found:
    people: list[Practitioner]
    services: list[Organisation]


#: Services matching a search are read in one statement for both groups, then split.
SERVICES_READ = 500


async def find(terms: list[str], area_ids: list[int]) -> list[Found]:
    """Both groups: in, and outside, these council areas (by the organisation's area). People
    one statement a group, services one statement for both."""
    where = Q(organisation__area_id__in=area_ids)
    people = Practitioner.filter(access.listed_in_phone_book(), matching_people(terms))
    related = ("organisation", "organisation_vouched_by")
    services = (
        await Organisation.filter(matching_services(terms))
        .select_related("area")
        .order_by("name")
        .limit(SERVICES_READ)
    )
    local = set(area_ids)
    return [
        Found(
            people=await people.filter(where)
            .select_related(*related)
            .order_by("name")
            .limit(PER_GROUP),
            services=[s for s in services if s.area_id in local][:PER_GROUP],  # type: ignore[attr-defined]
        ),
        Found(
            people=await people.exclude(where)
            .select_related(*related)
            .order_by("name")
            .limit(PER_GROUP),
            services=[s for s in services if s.area_id not in local][:PER_GROUP],  # type: ignore[attr-defined]
        ),
    ]


# A page's four, and one more when the practitioner's areas are read afresh (web/core/scopes.py).
@queries(PAGE + 1)
@signed_in
async def search(request: Request) -> Response:
    """Search people by name, role or organisation, and services by name or type."""
    q = request.query_params.get("q", "").strip()[:100]
    terms = terms_of(q)
    groups: list[tuple[str, Found]] = []
    if terms:
        areas = (await my_areas(me(request))).mine
        area_ids = [a.id for a in areas] or [me(request).organisation.area_id]  # type: ignore[attr-defined]
        groups = list(zip(("In your areas", "Elsewhere"), await find(terms, area_ids), strict=True))
    return page_or_block(
        request,
        "people/phonebook/search.html",
        {"q": q, "terms": terms, "groups": groups, "per_group": PER_GROUP},
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
