"""Who may see what. Every visibility rule lives here, and routes call it.

- A client's team is visible to its current members only.
- A discreet member is visible to nobody but themself.
- The phone book lists active practitioners who have finished signing up, never their clients.
- Invitations are seen and managed by whoever sent them, and by state administrators.
- A non-member sees a client's name, age and area only through a reference minted when that
  client was shown to them (a search result, a circle card, a join code, an invitation).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from functools import cache

from tortoise import connections
from tortoise.expressions import Q, RawSQL

from models.attentions import Attention, AttentionSeen
from models.clients import Client
from models.organisations import Organisation
from models.practitioners import SIGNUP_ANSWERED, Practitioner
from models.teams import Membership
from web.core import clock, tables
from web.core.settings import Settings


def current() -> Q:
    return Q(ended_at__isnull=True)


def visible_to(viewer: Practitioner) -> Q:
    """Memberships `viewer` may see: everyone's but discreet ones, and their own."""
    return current() & (Q(discreet=False) | Q(practitioner_id=viewer.id))


def visible_sql(alias: str, viewer_id: int) -> str:
    """`visible_to` in SQL, for the membership aliased `alias` (ids inlined: integers)."""
    return (
        f"{alias}.ended_at IS NULL AND ({alias}.discreet = false "
        f"OR {alias}.practitioner_id = {int(viewer_id)})"
    )


def shown_sql(alias: str, viewer_id: int) -> str:
    """`ever_visible_to` in SQL: a membership, current or ended, the viewer may know of."""
    return f"({alias}.discreet = false OR {alias}.practitioner_id = {int(viewer_id)})"


def on_team_sql(client_column: str, practitioner_id: int) -> str:
    """True where `practitioner_id` is on the team of the client in `client_column`."""
    return (
        f"EXISTS (SELECT 1 FROM membership o WHERE o.client_id = {client_column} "
        f"AND o.practitioner_id = {int(practitioner_id)} AND o.ended_at IS NULL)"
    )


def named_where_visible(practitioner_id: int) -> dict[str, RawSQL]:
    """For notifications: the client, named only while `practitioner_id` is on its team, and
    who acted, only where they are visibly on it (never someone discreet), in one statement."""
    on_team = on_team_sql('"notification"."client_id"', practitioner_id)
    return {
        "client_name": RawSQL(
            "(SELECT c.given_name || ' ' || c.family_name FROM client c "
            f'WHERE c.id = "notification"."client_id" AND {on_team})'
        ),
        "actor_name": RawSQL(
            '(SELECT a.name FROM practitioner a WHERE a.id = "notification"."actor_id" '
            f"AND {on_team} AND EXISTS (SELECT 1 FROM membership v WHERE "
            'v.client_id = "notification"."client_id" AND v.practitioner_id = a.id '
            "AND v.discreet = false))"
        ),
    }


async def is_member(practitioner: Practitioner, client_id: int) -> bool:
    return await Membership.filter(
        current(), client_id=client_id, practitioner_id=practitioner.id
    ).exists()


async def discreet_members(client_id: int) -> list[Practitioner]:
    """Who is on the team discreetly: for sending them what the team gets, never for showing."""
    members = await Membership.filter(current(), client_id=client_id, discreet=True).select_related(
        "practitioner"
    )
    return [m.practitioner for m in members]


#: Clients' current teams as one member sees them (discreet members hidden but themself), with
#: each member's practitioner, organisation and, where it rests only on an invitation, who
#: vouched for it, and the client: one statement.
TEAMS_SQL = (
    "SELECT {columns} FROM membership m JOIN practitioner p ON p.id = m.practitioner_id "
    "JOIN organisation o ON o.id = p.organisation_id JOIN client c ON c.id = m.client_id "
    "LEFT JOIN practitioner v ON v.id = p.organisation_vouched_by_id "
    "AND p.organisation_confirmed_at IS NULL "
    "WHERE m.client_id IN ({clients}) AND {visible} ORDER BY m.started_at, m.id"
)


@cache
def team_columns() -> str:
    return tables.columns(
        (Membership, "m"),
        (Practitioner, "p"),
        (Organisation, "o"),
        (Client, "c"),
        (Practitioner, "v"),
    )


async def visible_teams(viewer: Practitioner, client_ids: list[int]) -> list[Membership]:
    """These clients' teams as `viewer` sees them, practitioners, their organisations (and
    vouchers) and the clients loaded: one statement."""
    # Ids are integers: inlined, the statement needs no parameters in either dialect.
    clients = ", ".join(str(int(i)) for i in client_ids)
    return await visible_teams_in(viewer, clients) if client_ids else []


async def visible_teams_in(viewer: Practitioner, listed: str) -> list[Membership]:
    """`visible_teams` of the clients `listed` names (ids, or a subquery): one statement."""
    statement = TEAMS_SQL.format(
        columns=team_columns(), clients=listed, visible=visible_sql("m", viewer.id)
    )
    clients: dict[int, Client] = {}
    team = []
    for row in await connections.get("default").execute_query_dict(statement):
        membership = tables.as_model(Membership, row, "m")
        practitioner = tables.as_model(Practitioner, row, "p")
        practitioner.organisation = tables.as_model(Organisation, row, "o")
        if row["v__id"] is not None:
            practitioner.organisation_vouched_by = tables.as_model(Practitioner, row, "v")
        membership.practitioner = practitioner
        client = clients.setdefault(row["c__id"], tables.as_model(Client, row, "c"))
        membership.client = client
        team.append(membership)
    return team


async def visible_team(viewer: Practitioner, client_id: int) -> list[Membership]:
    """The team of one client as `viewer` sees it (`visible_teams`)."""
    return await visible_teams(viewer, [client_id])


def ever_visible_to(viewer: Practitioner) -> Q:
    """Current and past memberships `viewer` may see: never a discreet one but their own."""
    return Q(discreet=False) | Q(practitioner_id=viewer.id)


def may_lead(membership: Membership) -> bool:
    """Whether this membership may be the lead professional: current, seen by the team (a
    discreet lead would show the team they are there) and of someone who can sign in."""
    return (
        membership.ended_at is None
        and not membership.discreet
        and membership.practitioner.active  # nobody could reach them
    )


def lead_of(team: list[Membership]) -> Membership | None:
    """The current lead among `team` (as its viewer sees it: never a discreet member)."""
    return next((m for m in team if m.lead and may_lead(m)), None)


#: How the team sees whoever did something it may not attribute.
UNNAMED = "A team member"


def attention_raiser(viewer: Practitioner, attention: Attention, visible_ids: set[int]) -> str:
    """Who `viewer` sees raised an attention. A name shows only where the raiser let it show
    and is visibly on the team; a discreet member's attention is always unnamed, and anyone
    may raise one unnamed, so "A team member" never proves that someone discreet is there."""
    raiser = attention.raised_by
    if raiser is not None and attention.raised_by_id == viewer.id:
        if attention.named:
            return raiser.name
        return f"{raiser.name} (shown to the team as “{UNNAMED}”)"
    if raiser is not None and attention.named and attention.raised_by_id in visible_ids:
        return raiser.name
    return UNNAMED


def attention_counts_shown(viewer: Practitioner, attention: Attention) -> bool:
    """Whether `viewer` sees "seen by N of M" on an attention: not on an unnamed one but
    their own, since its raiser's own view counts only when the raiser is visible."""
    return attention.named or attention.raised_by_id == viewer.id


def joined_at(viewer: Practitioner, membership: Membership) -> datetime:
    """When `viewer` sees this member join: the team's view starts when they became visible
    (their discreet time before that is never shown); a practitioner sees their own start."""
    if membership.practitioner_id == viewer.id or membership.visible_since is None:
        return membership.started_at
    return membership.visible_since


def seen_since(viewer: Practitioner, membership: Membership) -> datetime | None:
    """From when `viewer` may count what this member did (views, acknowledgements, contact):
    since they became visible; None means all of it (the viewer's own, and legacy rows)."""
    if membership.practitioner_id == viewer.id:
        return None
    return membership.visible_since


def last_contact_seen(viewer: Practitioner, membership: Membership) -> date | None:
    """A member's last contact as `viewer` may see it: not one from while they were discreet."""
    since = seen_since(viewer, membership)
    contact = membership.last_contact_on
    if since is not None and contact is not None and contact < clock.as_local(since).date():
        return None
    return contact


def seen_and_acknowledged(
    viewer: Practitioner, team: list[Membership], rows: list[AttentionSeen]
) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
    """Who of the team `viewer` sees has seen and acknowledged each attention. Never a
    discreet member, nor what a member did before the team could see them."""
    since = {m.practitioner_id: seen_since(viewer, m) for m in team}
    seen: dict[int, set[int]] = defaultdict(set)
    acknowledged: dict[int, set[int]] = defaultdict(set)
    for row in rows:
        if row.practitioner_id not in since:
            continue
        start = since[row.practitioner_id]
        if start is None or row.seen_at is None or row.seen_at >= start:
            seen[row.attention_id].add(row.practitioner_id)
        if row.acknowledged_at and (start is None or row.acknowledged_at >= start):
            acknowledged[row.attention_id].add(row.practitioner_id)
    return seen, acknowledged


def listed_in_phone_book() -> Q:
    """Practitioners the phone book shows: active, with their signup answered (in SQL:
    models/practitioners.py `listed_sql`)."""
    return Q(active=True, signup_step__gte=SIGNUP_ANSWERED)


def invitations_managed_by(practitioner: Practitioner, councils: list[int] | None) -> Q:
    """Invitations sent by colleagues (not self-signups) that this practitioner may see,
    resend and withdraw: their own, and for an administrator those in the councils they look
    after (`scopes.administered_council_ids`: None for all), by the organisation the invitee
    will belong to or the client whose team they are invited to."""
    sent = Q(invited_by_id__isnull=False)
    if councils is None:
        return sent
    mine = Q(invited_by_id=practitioner.id)
    if councils:
        mine |= Q(organisation__area_id__in=councils) | Q(client__area_id__in=councils)
    return sent & mine


#: Days after a check-in request before an unconfirmed involvement shows as such.
GRACE_DAYS = 14


def lapsed_before(settings: Settings) -> datetime:
    """Memberships last confirmed before this show "not confirmed since …" to the team."""
    return clock.now() - timedelta(days=settings.checkin_days + GRACE_DAYS)
