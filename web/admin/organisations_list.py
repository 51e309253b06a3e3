"""The list of organisations an administrator looks after: filtered by name words and
council, a page of PER_PAGE at a time, in name order, in five queries whatever the page."""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from operator import and_

from starlette.datastructures import QueryParams
from tortoise.expressions import Q
from tortoise.functions import Count

from models.organisations import Organisation, OrganisationDomain
from models.practitioners import Practitioner
from web.core.forms import MAX_ID, form_int

PER_PAGE = 50
MAX_QUERY = 100
MAX_WORDS = 5


@dataclass(frozen=True)
class Listing:
    """One page of organisations, with what each row shows beside its name."""

    organisations: list[Organisation]
    domains: dict[int, list[str]]
    members: dict[int, int]
    total: int
    page: int
    pages: int
    q: str
    council_id: int | None


def name_filter(q: str) -> Q:
    words = q.split()[:MAX_WORDS]
    return reduce(and_, (Q(name__icontains=word) for word in words), Q())


async def listing(visible: Q, looked_after: list[int] | None, params: QueryParams) -> Listing:
    """The page asked for (`q`: words in the name, `council`, `page`) of the organisations
    `visible` (based in the councils looked after): a council outside them is ignored, and a
    page beyond the last is the last."""
    q = " ".join(params.get("q", "").split())[:MAX_QUERY]
    council_id = form_int(params.get("council", ""), low=1, high=MAX_ID)
    if looked_after is not None and council_id not in looked_after:
        council_id = None
    found = Organisation.filter(visible, name_filter(q))
    if council_id is not None:
        found = found.filter(area_id=council_id)
    total = await found.count()
    pages = max(1, -(-total // PER_PAGE))
    page = min(form_int(params.get("page", ""), low=1, high=MAX_ID) or 1, pages)
    organisations = (
        await found.select_related("area")
        .order_by("name", "id")
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE)
    )
    ids = [o.id for o in organisations]
    domains: dict[int, list[str]] = {}
    for organisation_id, domain in await OrganisationDomain.filter(
        organisation_id__in=ids
    ).values_list("organisation_id", "domain"):
        domains.setdefault(int(str(organisation_id)), []).append(str(domain))
    counted = (
        await Practitioner.filter(organisation_id__in=ids, active=True)
        .annotate(members=Count("id"))
        .group_by("organisation_id")
        .values_list("organisation_id", "members")
    )
    members = {int(str(o)): int(str(n)) for o, n in counted}
    return Listing(organisations, domains, members, total, page, pages, q, council_id)


def page_link(listing: Listing, page: int) -> str:
    """The address of another page of the same list."""
    params = {"q": listing.q, "council": str(listing.council_id or ""), "page": str(page)}
    return "/admin/organisations?" + str(QueryParams({k: v for k, v in params.items() if v}))
