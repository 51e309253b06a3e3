"""Finding a client: two parts of a name (and a birth date or year), your areas first, then
your district's and the state's on request, each group counted once against the hourly limit."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web.core import access, audit, ratelimit
from web.core.auth import me, signed_in
from web.core.errors import too_many_searches
from web.core.forms import parse_born
from web.core.name_index import query_tokens
from web.core.render import page_or_block
from web.core.scopes import Scopes, search_scopes
from web.core.search import GROUP_SIZE, Query, search

SCOPES = ("local", "district", "state")


def read_query(params: QueryParams) -> tuple[str, str, Query, dict[str, str]]:
    text = params.get("q", "")[:120]
    born_text = params.get("born", "")[:20]
    born_on, born_in, problem = parse_born(born_text)
    errors = {"born": problem} if problem else {}
    return text, born_text, Query(tuple(query_tokens(text)), born_on, born_in), errors


@signed_in
async def find(request: Request) -> Response:
    """Search clients by name, nearest first. Works as a plain GET form; htmx asks for one
    group at a time (`scope`) or the results block as you type."""
    practitioner = me(request)
    text, born_text, query, errors = read_query(request.query_params)
    scope = request.query_params.get("scope", "")
    scopes = await search_scopes(practitioner)
    values: dict[str, Any] = {
        "q": text,
        "born": born_text,
        "errors": errors,
        "scopes": scopes,
        "groups": {},
        "searched": False,
        "needs_more": bool(text or born_text) and not query.acceptable,
        "expanded": set(request.query_params.getlist("show")) & {"district", "state"},
        "query_string": urlencode({"q": text, "born": born_text}),
        "group_size": GROUP_SIZE,
    }
    if errors or not query.acceptable:
        return page_or_block(
            request,
            "clients/search.html",
            values,
            block="results",
            status_code=422 if errors else 200,
        )
    # Every request counts, whichever group it asks for; one query's groups count once.
    limit = request.app.state.settings.search_rate_per_hour
    counted = f"query:{query.normalised}|{searched_areas(scopes)}"
    if not await ratelimit.search(practitioner.id, counted, limit):
        await audit.record(
            request, "client.search_refused", terms=text, born=born_text, scope=scope or "local"
        )
        return too_many_searches(request, limit)
    wanted = [scope] if scope in SCOPES[1:] else ["local", *sorted(values["expanded"])]
    for name in wanted:
        values["groups"][name] = await search_group(request, query, scopes, name, text, born_text)
    values["searched"] = True
    if scope in SCOPES[1:]:
        return page_or_block(
            request, "clients/search.html", {**values, "name": scope}, block="group"
        )
    return page_or_block(request, "clients/search.html", values, block="results")


def searched_areas(scopes: Scopes) -> str:
    """Where a search looks: the local areas and the rest of their districts (the state group
    is everywhere else). The same words searched with other areas reach other clients, so
    the search limit counts them again."""
    local = sorted(a.id for a in scopes.local)
    district = sorted(scopes.district_council_ids)
    return f"local={','.join(map(str, local))};district={','.join(map(str, district))}"


async def search_group(
    request: Request, query: Query, scopes: Scopes, name: str, text: str, born: str
) -> list[Any]:
    local_ids = [a.id for a in scopes.local]
    if name == "local":
        hits = await search(query, in_areas=local_ids)
    elif name == "district":
        hits = await search(query, in_areas=scopes.district_council_ids)
    else:
        hits = await search(query, not_in_areas=[*local_ids, *scopes.district_council_ids])
    member_of = await access.member_of(me(request), [h.client.id for h in hits])
    await audit.record(
        request, "client.searched", terms=text, born=born, scope=name, results=len(hits)
    )
    return [(hit.client, hit.client.id in member_of) for hit in hits]


routes = [
    Route("/clients/search", find, methods=["GET"]),
]
