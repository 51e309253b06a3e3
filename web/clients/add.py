"""Adding a client: the form (names guessed from the search that found nobody), its checks,
the likely duplicates it asks about first, and the client created with you on its team."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from models.clients import Client
from web.core import audit, ratelimit
from web.core.areas import area_tree
from web.core.auth import me, signed_in
from web.core.budgets import PAGE, queries
from web.core.errors import too_many_searches
from web.core.forms import MAX_ID, form_int, parse_born
from web.core.legal_bases import legal_bases
from web.core.membership import NewClient, add_client
from web.core.name_index import query_tokens
from web.core.render import page_or_block
from web.core.scopes import search_scopes
from web.core.search import Query, search


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


async def client_form_values(
    request: Request,
    form: dict[str, str],
    errors: dict[str, str],
    duplicates: list[Any] | None = None,
) -> dict[str, Any]:
    scopes = await search_scopes(me(request))
    councils = (await area_tree()).of_kind("council")
    return {
        "form": form,
        "errors": errors,
        "duplicates": duplicates or [],
        "councils": councils,
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


async def likely_duplicates(request: Request, new: NewClient) -> list[Any]:
    """Clients who may be this one: similar names, and no conflicting birth details."""
    query = Query(tuple(query_tokens(f"{new.given_name} {new.family_name}")))
    hits = [h for h in await search(query, limit=10, viewer_id=me(request).id) if h.score >= 0.7]
    born_year = new.birth_date.year if new.birth_date else new.birth_year

    def fits(client: Client) -> bool:
        if new.birth_date and client.birth_date:
            return client.birth_date == new.birth_date
        return born_year is None or client.born_year in (None, born_year)

    candidates = [h for h in hits if fits(h.client)]
    candidates.sort(key=lambda h: (h.client.area_id != new.area_id,))  # type: ignore[attr-defined]
    return [(h.client, h.mine) for h in candidates[:5]]


@queries(19)
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
        named = f"{new.given_name} {new.family_name}"
        asked = Query(tuple(query_tokens(named)), new.birth_date, new.birth_year).normalised
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
