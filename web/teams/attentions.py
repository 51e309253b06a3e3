"""Attentions: a short flag to the team that there is something to talk about.

Not a message thread and not a place for case notes: the form says so, and it is short.
Members' views are recorded as "seen"; any member can acknowledge, and the raiser or any
member resolves. Every change alerts the rest of the team.
"""

from __future__ import annotations

from functools import cache

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from tortoise import connections
from tortoise.transactions import in_transaction

from models.attentions import CATEGORIES, MAX_LENGTH, Attention, AttentionSeen
from models.clients import Client
from models.practitioners import Practitioner
from web.core import access, audit, ratelimit, tables
from web.core.alerts import tell_team
from web.core.auth import me, now, signed_in
from web.core.budgets import PAGE, queries
from web.core.errors import too_many_requests
from web.core.render import page_or_block
from web.teams.team import mine, team_or_refusal

#: Attentions one member may raise on one team in an hour.
ATTENTIONS_PER_HOUR = 10
CATEGORY_LABELS = {"concern": "Concern", "information": "Information", "meeting": "Meeting needed"}


#: A client's attentions, newest first, each with who raised it and every member's view of it
#: (one row per view, or one with no view): one statement.
WITH_SEEN_SQL = (
    "SELECT {columns} FROM attention a LEFT JOIN practitioner r ON r.id = a.raised_by_id "
    "LEFT JOIN attention_seen s ON s.attention_id = a.id WHERE a.client_id = {client} "
    "ORDER BY a.created_at DESC, a.id DESC, s.id"
)


@cache
def with_seen_columns() -> str:
    return tables.columns((Attention, "a"), (Practitioner, "r"), (AttentionSeen, "s"))


async def with_seen(client_id: int) -> tuple[list[Attention], list[AttentionSeen]]:
    """The client's attentions (raisers loaded) and every view of them, in one statement."""
    statement = WITH_SEEN_SQL.format(columns=with_seen_columns(), client=int(client_id))
    attentions: dict[int, Attention] = {}
    seen: list[AttentionSeen] = []
    for row in await connections.get("default").execute_query_dict(statement):
        attention = attentions.get(row["a__id"])
        if attention is None:
            attention = attentions[row["a__id"]] = tables.as_model(Attention, row, "a")
            raiser = tables.as_model(Practitioner, row, "r") if row["r__id"] is not None else None
            attention.raised_by = raiser  # type: ignore[assignment]
        if row["s__id"] is not None:
            seen.append(tables.as_model(AttentionSeen, row, "s"))
    return list(attentions.values()), seen


async def attentions_page(
    request: Request,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    found = await team_or_refusal(request)
    if isinstance(found, Response):
        return found
    client, team = found
    practitioner = me(request)
    attentions, seen_rows = await with_seen(client.id)
    visible_ids = {m.practitioner_id for m in team}
    already = {(s.attention_id, s.practitioner_id) for s in seen_rows}
    first_views = [
        AttentionSeen(attention_id=a.id, practitioner_id=practitioner.id)
        for a in attentions
        if (a.id, practitioner.id) not in already
    ]
    if first_views:  # opening the tab is seeing what is on it
        # Two tabs opening it at once both find it unseen: the unique (attention, practitioner)
        # keeps one row, and the other insert does nothing (ON CONFLICT DO NOTHING, both DBs).
        await AttentionSeen.bulk_create(first_views, ignore_conflicts=True)
        seen_rows += first_views
    own = mine(request, team)
    stale = [
        row.id
        for row in seen_rows
        if row.practitioner_id == practitioner.id
        and own.visible_since is not None
        and row.seen_at is not None
        and row.seen_at < own.visible_since
    ]
    if stale:  # seen while discreet: seeing it now, visibly, is what the team may count
        moment = now()
        await AttentionSeen.filter(id__in=stale).update(seen_at=moment)
        for row in seen_rows:
            if row.id in stale:
                row.seen_at = moment
    seen, acknowledged = access.seen_and_acknowledged(practitioner, team, seen_rows)
    raiser = {a.id: access.attention_raiser(practitioner, a, visible_ids) for a in attentions}
    # Who has seen an unnamed attention would tell whether its raiser is someone visible (their
    # own view counts) or discreet (it never does): only its raiser sees those counts.
    counted = {a.id for a in attentions if access.attention_counts_shown(practitioner, a)}
    return page_or_block(
        request,
        "teams/attentions.html",
        {
            "client": client,
            "tab": "attentions",
            "team_size": len(team),
            "open": [a for a in attentions if a.resolved_at is None],
            "resolved": [a for a in attentions if a.resolved_at is not None][:20],
            "seen": seen,
            "acknowledged": acknowledged,
            "raiser": raiser,
            "counted": counted,
            "categories": CATEGORY_LABELS,
            "max_length": MAX_LENGTH,
            "form": form or {"text": "", "category": "", "unnamed": ""},
            "errors": errors or {},
            "discreet": mine(request, team).discreet,
            "notice": request.query_params.get("done", ""),
        },
        status_code=status_code,
    )


@queries(PAGE + 1)
@signed_in
async def show(request: Request) -> Response:
    """The Attentions tab: open flags first, who has seen each, and a form to raise one. Four
    statements, and a fifth when it records a first view (or one seen only while discreet)."""
    return await attentions_page(request)


async def record_and_tell(
    request: Request, client: Client, attention: Attention, what: str, *, named: bool
) -> None:
    """Audit a change to an attention ("raised", "resolved") and tell the rest of the team."""
    await audit.record(
        request,
        f"attention.{what}",
        client_id=client.id,
        area_id=client.area_id,  # type: ignore[attr-defined]
        attention_id=attention.id,
    )
    await tell_team(
        request.app.state.settings,
        client.id,
        me(request),
        f"attention_{what}",
        f"/clients/{client.id}/attentions",
        named=named,
    )


@queries(12)
@signed_in
async def raise_attention(request: Request) -> Response:
    """Raise an attention; the rest of the team is alerted."""
    found = await team_or_refusal(request)
    if isinstance(found, Response):
        return found
    client, team = found
    raw = await request.form()
    form = {
        "text": str(raw.get("text", "")).strip(),
        "category": str(raw.get("category", "")),
        "unnamed": "yes" if raw.get("unnamed") == "yes" else "",
    }
    errors = {}
    if not form["text"]:
        errors["text"] = "Say briefly what the team should talk about"
    elif len(form["text"]) > MAX_LENGTH:
        errors["text"] = f"Keep it to {MAX_LENGTH} characters: it is a flag, not a case note"
    if form["category"] not in ("", *CATEGORIES):
        errors["category"] = "Choose a category from the list"
    if errors:
        return await attentions_page(request, form, errors, status_code=422)
    practitioner = me(request)
    # Each attention alerts the whole team: a cap keeps one member from flooding it.
    if not await ratelimit.hit(f"attention:{practitioner.id}:{client.id}", ATTENTIONS_PER_HOUR):
        return too_many_requests(
            request,
            f"You have raised {ATTENTIONS_PER_HOUR} attentions on this team in the last hour, "
            "and each one alerts the whole team. Call your colleagues, or try again later.",
        )
    async with in_transaction():
        attention = await Attention.create(
            client_id=client.id,
            raised_by=practitioner,
            text=form["text"],
            category=form["category"],
            # Someone discreet is never named, whatever the form says.
            named=not (form["unnamed"] or mine(request, team).discreet),
        )
        await AttentionSeen.create(
            attention=attention, practitioner=practitioner, acknowledged_at=now()
        )
        await record_and_tell(request, client, attention, "raised", named=attention.named)
    return RedirectResponse(f"/clients/{client.id}/attentions?done=raised", status_code=303)


async def members_attention(request: Request) -> Attention:
    attention = await Attention.get_or_none(
        id=request.path_params["attention_id"], client_id=request.path_params["client_id"]
    )
    if attention is None:
        raise HTTPException(404)
    return attention


@queries(5)
@signed_in
async def acknowledge(request: Request) -> Response:
    """ "I've seen this": the raiser knows the message got through."""
    found = await team_or_refusal(request)
    if isinstance(found, Response):
        return found
    attention = await members_attention(request)
    await AttentionSeen.filter(attention=attention, practitioner_id=me(request).id).update(
        acknowledged_at=now()
    )
    return RedirectResponse(
        f"/clients/{attention.client_id}/attentions?done=acknowledged", status_code=303
    )


@queries(PAGE)
@signed_in
async def confirm_resolve(request: Request) -> Response:
    """Resolving cannot be undone, so the Resolve button asks first (a page, no JavaScript)."""
    found = await team_or_refusal(request, attention_id=request.path_params["attention_id"])
    if isinstance(found, Response):
        return found
    client, _team = found
    attention = await members_attention(request)
    if attention.resolved_at is not None:
        return RedirectResponse(f"/clients/{client.id}/attentions", status_code=303)
    context = {"client": client, "attention": attention, "categories": CATEGORY_LABELS}
    return page_or_block(request, "teams/resolve.html", context)


@queries(11)
@signed_in
async def resolve(request: Request) -> Response:
    """Resolve an attention (the raiser or any member); the team is alerted."""
    found = await team_or_refusal(request)
    if isinstance(found, Response):
        return found
    client, _team = found
    attention = await members_attention(request)
    async with in_transaction():
        done = await Attention.filter(id=attention.id, resolved_at__isnull=True).update(
            resolved_at=now(), resolved_by_id=me(request).id
        )
        if done:
            await record_and_tell(request, client, attention, "resolved", named=False)
    return RedirectResponse(f"/clients/{client.id}/attentions?done=resolved", status_code=303)


routes = [
    Route("/clients/{client_id:int}/attentions", show, methods=["GET"]),
    Route("/clients/{client_id:int}/attentions", raise_attention, methods=["POST"]),
    Route(
        "/clients/{client_id:int}/attentions/{attention_id:int}/acknowledge",
        acknowledge,
        methods=["POST"],
    ),
    Route(
        "/clients/{client_id:int}/attentions/{attention_id:int}/resolve",
        confirm_resolve,
        methods=["GET"],
    ),
    Route(
        "/clients/{client_id:int}/attentions/{attention_id:int}/resolve", resolve, methods=["POST"]
    ),
]
