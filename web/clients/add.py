"""Adding a client: the form (names guessed from the search that found nobody), its checks,
the likely duplicates it asks about first, and the client created with you on its team."""

from __future__ import annotations

import re
from itertools import groupby
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from models.areas import Area
from models.clients import Client
from web.core import audit, ratelimit
from web.core.areas import AreaTree, area_tree
from web.core.auth import me, signed_in
from web.core.budgets import PAGE, queries
from web.core.errors import too_many_searches
from web.core.forms import MAX_ID, form_int, parse_born
from web.core.legal_bases import legal_bases
from web.core.membership import NewClient, add_client
from web.core.name_index import query_tokens
from web.core.render import page_or_block
from web.core.scopes import search_scopes
from web.core.search import Hit, Query, search


def tidy_name(text: str) -> str:
    """A name typed all in lower or all in upper case gets initial capitals ("mia thomsen" →
    "Mia Thomsen", "O'BRIEN-SMITH" → "O'Brien-Smith"); a name with any capital is kept as typed
    ("McDonald", "de Souza")."""
    if text.lower() == text.upper() or text not in (text.lower(), text.upper()):
        return text
    return text.title()


def guess_names(text: str) -> tuple[str, str]:
    """ "Mia Thompson" → ("Mia", "Thompson"); the rest of a longer name goes to the family."""
    words = text.split()
    if not words:
        return "", ""
    if len(words) == 1:
        return "", words[0]
    return words[0], " ".join(words[1:])


def council_groups(tree: AreaTree, local: list[Area]) -> list[tuple[str, list[Area]]]:
    """The councils to choose from: the practitioner's own first ("Your areas", in their
    order), then every other council under its district, each council once."""
    own = [area for area in local if area.kind == "council"]
    own_ids = {area.id for area in own}

    def district(council: Area) -> str:
        parent = tree.get(council.parent_id)  # type: ignore[attr-defined]
        return parent.name if parent is not None else ""

    others = sorted(
        (c for c in tree.of_kind("council") if c.id not in own_ids),
        key=lambda c: (district(c), c.name),
    )
    groups = [("Your areas", own)] if own else []
    return groups + [(name, list(areas)) for name, areas in groupby(others, key=district)]


async def client_form_values(
    request: Request,
    form: dict[str, str],
    errors: dict[str, str],
    duplicates: list[Any] | None = None,
) -> dict[str, Any]:
    scopes = await search_scopes(me(request))
    return {
        "form": form,
        "errors": errors,
        "duplicates": duplicates or [],
        "council_groups": council_groups(await area_tree(), scopes.local),
        "legal_bases": legal_bases(request.app.state.settings.deployment),
        "default_area": scopes.local[0].id if scopes.local else None,
    }


@queries(PAGE)
@signed_in
async def new_client(request: Request) -> Response:
    """The add-a-client form, filled in with what was searched for."""
    given, family = guess_names(request.query_params.get("q", ""))
    born_on, born_in, _ = parse_born(request.query_params.get("born", ""))
    form = {
        "given_name": given,
        "family_name": family,
        "other_names": "",
        "birth_date": born_on.isoformat() if born_on else "",
        "birth_year": str(born_in) if born_in else "",
        "birth": "date" if born_on else ("year" if born_in else "date"),
        "area_id": "",
        "sharing_basis": "",  # no default: the practitioner says how sharing was agreed
        "legal_basis": "",
    }
    return page_or_block(request, "clients/new.html", await client_form_values(request, form, {}))


CLIENT_FIELDS = (
    "given_name",
    "family_name",
    "other_names",
    "birth",
    "birth_date",
    "birth_year",
    "area_id",
    "sharing_basis",
    "legal_basis",
)


def validate_client(
    form: FormData, council_ids: set[int], bases: dict[str, str]
) -> tuple[NewClient | None, dict[str, str]]:
    errors: dict[str, str] = {}
    value = {k: str(form.get(k, "")).strip() for k in CLIENT_FIELDS}
    if not value["given_name"]:
        errors["given_name"] = "Enter the client's given name"
    if not value["family_name"]:
        errors["family_name"] = "Enter the client's family name"
    for field_name in ("given_name", "family_name"):
        if len(value[field_name]) > 80:
            errors[field_name] = "Names must be 80 characters or fewer"
    if len(value["other_names"]) > 200:
        errors["other_names"] = "Other names must be 200 characters or fewer"
    birth_date, birth_year = None, None
    if value["birth"] == "date":
        birth_date, _, problem = parse_born(value["birth_date"])
        if problem or birth_date is None:
            errors["birth_date"] = problem or "Enter the date of birth, or choose another option"
    elif value["birth"] == "year":
        _, birth_year, problem = parse_born(value["birth_year"])
        if problem or birth_year is None:
            errors["birth_year"] = problem or "Enter the year of birth"
    elif value["birth"] != "unknown":
        errors["birth"] = "Choose how much of the date of birth you know"
    area_id = form_int(value["area_id"], low=1, high=MAX_ID) or 0
    if area_id not in council_ids:
        errors["area_id"] = "Choose the client's council area"
    if value["sharing_basis"] not in ("consent", "legal"):
        errors["sharing_basis"] = "Choose how sharing was agreed"
    elif value["sharing_basis"] == "legal" and value["legal_basis"] not in bases:
        errors["legal_basis"] = "Choose the legal basis for sharing without consent"
    if errors:
        return None, errors
    return NewClient(
        given_name=tidy_name(value["given_name"]),
        family_name=tidy_name(value["family_name"]),
        other_names=tidy_name(value["other_names"]),
        birth_date=birth_date,
        birth_year=birth_year,
        area_id=area_id,
        sharing_basis=value["sharing_basis"],
        legal_basis=value["legal_basis"] if value["sharing_basis"] == "legal" else "",
    ), {}


#: Other names are free text: "Mimi; Mia-Rose", "Mimi, Mia-Rose" or "Mimi / Mia-Rose".
OTHER_NAMES = re.compile(r"[,;/]")
#: Other names searched for duplicates, each one search more: enough for a client's aliases,
#: and a bound on the route's budget however many are typed.
MOST_OTHER_NAMES = 3
#: Adding a client no search matched: the session, the search limit (2), the audit event, and
#: the client, their names and their team (14); one to read or top up the vocabulary (once a
#: request), and one for each search.
ADDING_AFTER_SEARCHES = 18


def duplicate_searches(new: NewClient) -> dict[str, Query]:
    """The searches for who a new client may already be, by the names searched: their name,
    then each of their other names with the family name ("Mimi Thompson"), each once."""
    others = [n for n in OTHER_NAMES.split(new.other_names) if query_tokens(n)]
    by_words: dict[tuple[str, ...], tuple[str, Query]] = {}
    for given in [new.given_name, *others[:MOST_OTHER_NAMES]]:
        named = f"{given.strip()} {new.family_name}"
        tokens = tuple(query_tokens(named))
        by_words.setdefault(tuple(sorted(tokens)), (named, Query(tokens)))
    return dict(by_words.values())


async def likely_duplicates(request: Request, new: NewClient) -> list[Any]:
    """Clients who may be this one: similar names (their own or another name), and no
    conflicting birth details; those in the same area first, at most 5."""
    best: dict[int, Hit] = {}  # each client's best hit, whichever name found them
    for query in duplicate_searches(new).values():
        for hit in await search(query, limit=10, viewer_id=me(request).id):
            kept = best.get(hit.client.id)
            if hit.score >= 0.7 and (kept is None or hit.score > kept.score):
                best[hit.client.id] = hit
    born_year = new.birth_date.year if new.birth_date else new.birth_year

    def fits(client: Client) -> bool:
        if new.birth_date and client.birth_date:
            return client.birth_date == new.birth_date
        return born_year is None or client.born_year in (None, born_year)

    candidates = [h for h in best.values() if fits(h.client)]
    candidates.sort(
        key=lambda h: (
            h.client.area_id != new.area_id,  # type: ignore[attr-defined]
            -h.score,
            h.client.family_name,
            h.client.given_name,
            h.client.id,
        )
    )
    return [(h.client, h.mine) for h in candidates[:5]]


@queries(ADDING_AFTER_SEARCHES + 1 + (1 + MOST_OTHER_NAMES))
@signed_in
async def create_client(request: Request) -> Response:
    """Add a client (after offering likely duplicates); you become its first team member."""
    form = await request.form()
    council_ids = {area.id for area in (await area_tree()).of_kind("council")}
    bases = legal_bases(request.app.state.settings.deployment)
    new, errors = validate_client(form, council_ids, bases)
    raw = {k: str(form.get(k, "")).strip() for k in CLIENT_FIELDS}
    if new is None:
        return page_or_block(
            request,
            "clients/new.html",
            await client_form_values(request, raw, errors),
            status_code=422,
        )
    if form.get("confirmed") != "yes":
        # Duplicates are clients from anywhere: offering them counts and is audited as a search.
        limit = request.app.state.settings.search_rate_per_hour
        searches = duplicate_searches(new)
        named = "; ".join(searches)
        asked = "; ".join(
            Query(q.tokens, new.birth_date, new.birth_year).normalised for q in searches.values()
        )
        if not await ratelimit.search(me(request).id, f"duplicates:{asked}", limit):
            await audit.record(request, "client.search_refused", terms=named, scope="duplicates")
            return too_many_searches(request, limit)
        duplicates = await likely_duplicates(request, new)
        born, results = str(new.birth_date or new.birth_year or ""), len(duplicates)
        await audit.record(
            request, "client.searched", terms=named, born=born, scope="duplicates", results=results
        )
        if duplicates:
            return page_or_block(
                request, "clients/new.html", await client_form_values(request, raw, {}, duplicates)
            )
    client = await add_client(request, me(request), new)
    return RedirectResponse(f"/clients/{client.id}", status_code=303)


routes = [
    Route("/clients/new", new_client, methods=["GET"]),
    Route("/clients/new", create_client, methods=["POST"]),
]
