"""Clients: "Your clients", finding clients (local area first), adding one, a client's page."""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData, QueryParams
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from models.areas import Area
from models.clients import LEGAL_BASES, Client
from web.core import access, audit, clock, ratelimit
from web.core.auth import me, signed_in
from web.core.errors import too_many_searches
from web.core.inputs import MAX_ID, form_int
from web.core.render import page_or_block
from web.core.search import GROUP_SIZE, Query, query_tokens, search
from web.signin.passkeys import should_offer_passkey
from web.signup.guide import TOUR, tour_step
from web.signup.steps import resume_path
from web.teams.membership import NewClient, add_client

SCOPES = ("local", "district", "state")


@signed_in
async def your_clients(request: Request) -> Response:
    """The home page: cards for the teams you are on (after signup is finished)."""
    if (unfinished := resume_path(me(request))) is not None:
        return RedirectResponse(unfinished, status_code=303)
    tour = tour_step(request, me(request))
    values = {"tour": tour, "tour_steps": TOUR}
    if tour and request.headers.get("hx-request") and "tour" in request.query_params:
        return page_or_block(request, "clients/index.html", values, block="walkthrough")
    cards = await access.my_clients(me(request))
    offer_passkey = await should_offer_passkey(request)
    return page_or_block(
        request,
        "clients/index.html",
        {**values, "cards": cards, "offer_passkey": offer_passkey},
    )


# -- finding clients --------------------------------------------------------------------------


def parse_born(text: str) -> tuple[date | None, int | None, str]:
    """A date (2019-08-02 or 2/8/2019) or a year; the third value is an error message."""
    text = text.strip()
    if not text:
        return None, None, ""
    if re.fullmatch(r"[0-9]{4}", text):
        year = int(text)
        if 1900 <= year <= clock.today().year:
            return None, year, ""
        return None, None, "Enter a year of birth between 1900 and this year"
    try:
        if "/" in text:
            day, month, year = (form_int(p, low=1, high=9999) or 0 for p in text.split("/"))
            born = date(year, month, day)
        else:
            born = date.fromisoformat(text)
    except ValueError:
        return None, None, "Enter a date of birth like 2/8/2019, or just the year"
    if not date(1900, 1, 1) <= born <= clock.today():
        return None, None, "Enter a date of birth in the past"
    return born, None, ""


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
    scopes = await access.search_scopes(practitioner)
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


def searched_areas(scopes: access.Scopes) -> str:
    """Where a search looks: the local areas and the rest of their districts (the state group
    is everywhere else). The same words searched with other areas reach other clients, so
    the search limit counts them again."""
    local = sorted(a.id for a in scopes.local)
    district = sorted(scopes.district_council_ids)
    return f"local={','.join(map(str, local))};district={','.join(map(str, district))}"


async def search_group(
    request: Request, query: Query, scopes: access.Scopes, name: str, text: str, born: str
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


# -- adding a client --------------------------------------------------------------------------


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
    scopes = await access.search_scopes(me(request))
    councils = await Area.filter(kind="council").select_related("parent").order_by("name")
    return {
        "form": form,
        "errors": errors,
        "duplicates": duplicates or [],
        "councils": councils,
        "legal_bases": LEGAL_BASES,
        "default_area": scopes.local[0].id if scopes.local else None,
    }


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
        "sharing_basis": "consent",
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
    form: FormData, council_ids: set[int]
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
    elif value["sharing_basis"] == "legal" and value["legal_basis"] not in LEGAL_BASES:
        errors["legal_basis"] = "Choose the legal basis for sharing without consent"
    if errors:
        return None, errors
    return NewClient(
        given_name=value["given_name"],
        family_name=value["family_name"],
        other_names=value["other_names"],
        birth_date=birth_date,
        birth_year=birth_year,
        area_id=area_id,
        sharing_basis=value["sharing_basis"],
        legal_basis=value["legal_basis"] if value["sharing_basis"] == "legal" else "",
    ), {}


async def likely_duplicates(request: Request, new: NewClient) -> list[Any]:
    """Clients who may be this one: similar names, and no conflicting birth details."""
    query = Query(tuple(query_tokens(f"{new.given_name} {new.family_name}")))
    hits = [h for h in await search(query, limit=10) if h.score >= 0.7]
    born_year = new.birth_date.year if new.birth_date else new.birth_year

    def fits(client: Client) -> bool:
        if new.birth_date and client.birth_date:
            return client.birth_date == new.birth_date
        return born_year is None or client.born_year in (None, born_year)

    candidates = [h.client for h in hits if fits(h.client)]
    candidates.sort(key=lambda c: (c.area_id != new.area_id,))  # type: ignore[attr-defined]
    member_of = await access.member_of(me(request), [c.id for c in candidates])
    return [(c, c.id in member_of) for c in candidates[:5]]


@signed_in
async def create_client(request: Request) -> Response:
    """Add a client (after offering likely duplicates); you become its first team member."""
    form = await request.form()
    council_ids = {area.id for area in await Area.filter(kind="council").only("id")}
    new, errors = validate_client(form, council_ids)
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
    Route("/", your_clients, methods=["GET"]),
    Route("/clients/search", find, methods=["GET"]),
    Route("/clients/new", new_client, methods=["GET"]),
    Route("/clients/new", create_client, methods=["POST"]),
]
