"""The one search box: clients by two parts of a name (and a birth date or year), your areas
first, then your district's and the state's on request, each group counted once against the
hourly limit; and beneath them colleagues and services (web/core/directory.py), for which one
word is enough and which no limit counts."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from models.audit import AuditEvent
from web.core import audit, directory, ratelimit, search_runs
from web.core.auth import me, signed_in
from web.core.budgets import SEARCH, queries
from web.core.errors import too_many_searches
from web.core.forms import parse_born
from web.core.name_index import query_tokens
from web.core.render import page_or_block
from web.core.scopes import Scopes, search_scopes
from web.core.search import GROUP_SIZE, Query, search_groups

SCOPES = ("local", "district", "state")


def read_query(params: QueryParams) -> tuple[str, str, Query, dict[str, str]]:
    text = params.get("q", "")[:120]
    born_text = params.get("born", "")[:20]
    born_on, born_in, problem = parse_born(born_text)
    errors = {"born": problem} if problem else {}
    return text, born_text, Query(tuple(query_tokens(text)), born_on, born_in), errors


# The session, the rate limit, the client groups, the colleagues found (matched in memory, read
# by id), the audit event: SEARCH. Services come from memory too. Beyond it only when something
# kept is read afresh: the areas after they changed (web/core/scopes.py), the names' words in a
# process's first search, the colleagues and the organisations when the directory's version
# moved (web/core/colleagues.py).
@queries(SEARCH + 4)
@signed_in
async def find(request: Request) -> Response:
    """Search clients by name, nearest first, then colleagues and services. Works as a plain
    GET form; htmx asks for one client group at a time (`scope`) or the results as you type."""
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
        "directory": None,
        "directory_query": urlencode({"q": text}),
    }
    # Colleagues and services: with the results block, not with one client group.
    terms = directory.terms_of(text) if scope not in SCOPES[1:] else []
    if errors or not query.acceptable:
        if terms and not errors:
            values["directory"] = await directory.find_brief(
                terms, local_area_ids(request, scopes), request.state.directory_version
            )
            await audit.record_all([directory.searched(request, text, values["directory"])])
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
    settings = request.app.state.settings
    proof = request.query_params.get("counted", "")[:200]
    typed = text.strip().lower()
    run = search_runs.continued(
        settings.secret_key,
        practitioner.id,
        request.query_params.get("run", ""),
        request.query_params.get("after", "")[:120].strip().lower(),
        typed,
    )
    if run:  # a step of an as-you-type run: counted once, at its start
        proof = ratelimit.counted_proof(settings.secret_key, practitioner.id, counted)
    else:
        proof = await ratelimit.query(settings.secret_key, practitioner.id, counted, limit, proof)
        run = search_runs.started(settings.secret_key, practitioner.id, typed) if proof else ""
    values["run"], values["after"] = run, typed
    if not proof:
        await audit.record(
            request, "client.search_refused", terms=text, born=born_text, scope=scope or "local"
        )
        return too_many_searches(request, limit)
    wanted = [scope] if scope in SCOPES[1:] else ["local", *sorted(values["expanded"])]
    also = []
    if terms:
        values["directory"] = await directory.find_brief(
            terms, local_area_ids(request, scopes), request.state.directory_version
        )
        also = [directory.searched(request, text, values["directory"])]
    values["groups"] = await search_in(request, query, scopes, wanted, text, born_text, also)
    values["searched"] = True
    # Its other groups, asked for from these results, are not counted again.
    values["query_string"] = urlencode({"q": text, "born": born_text, "counted": proof})
    if scope in SCOPES[1:]:
        return page_or_block(
            request, "clients/search.html", {**values, "name": scope}, block="group"
        )
    return page_or_block(request, "clients/search.html", values, block="results")


def local_area_ids(request: Request, scopes: Scopes) -> list[int]:
    """Where "your areas" are for colleagues and services: the client search's local areas,
    else the practitioner's organisation's."""
    return [a.id for a in scopes.local] or [me(request).organisation.area_id]  # type: ignore[attr-defined]


def searched_areas(scopes: Scopes) -> str:
    """Where a search looks: the local areas and the rest of their districts (the state group
    is everywhere else). The same words searched with other areas reach other clients, so
    the search limit counts them again."""
    local = sorted(a.id for a in scopes.local)
    district = sorted(scopes.district_council_ids)
    return f"local={','.join(map(str, local))};district={','.join(map(str, district))}"


async def search_in(
    request: Request,
    query: Query,
    scopes: Scopes,
    wanted: list[str],
    text: str,
    born: str,
    also: list[AuditEvent],
) -> dict[str, list[Any]]:
    """The groups asked for (one statement), each audited with `also` (one more)."""
    local_ids = [a.id for a in scopes.local]
    district = scopes.district_council_ids
    where = {
        "local": (local_ids, []),
        "district": (district, []),
        "state": (None, [*local_ids, *district]),
    }
    found = await search_groups(
        query, {name: where[name] for name in wanted}, viewer_id=me(request).id
    )
    await audit.record_all(
        [
            audit.event(
                request, "client.searched", terms=text, born=born, scope=name, results=len(hits)
            )
            for name, hits in found.items()
        ]
        + also
    )
    return {name: [(hit.client, hit.mine) for hit in hits] for name, hits in found.items()}


routes = [
    Route("/clients/search", find, methods=["GET"]),
]
