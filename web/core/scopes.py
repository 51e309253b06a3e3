"""A practitioner's areas, and the scopes a search looks in: the areas they chose, then those
of their clients (unless they turned that off); then their district; then the state. And the
one-line headings that name those scopes, however many areas they hold."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from tortoise import connections
from tortoise.expressions import F

from models.areas import Area
from models.practitioners import AdminArea, Practitioner
from web.core.areas import AreaTree, area_tree

#: Two names together this long are counted instead ("2 districts"), so a heading stays on one
#: line on a phone. One name is always named (no district or council name is longer than 23).
SHORT_NAMES = 24


def named(names: Sequence[str]) -> str | None:
    """ "Brimbank Melton", or two short names ("Barwon and Loddon"), else None (count them)."""
    joined = " and ".join(names)
    if len(names) == 1 or (len(names) == 2 and len(joined) <= SHORT_NAMES):
        return joined
    return None


def counted(number: int, noun: str) -> str:
    """ "1 area", "45 areas"."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


@dataclass(frozen=True)
class Scopes:
    """Where a practitioner's searches look, nearest first."""

    local: list[Area]
    district_council_ids: list[int]
    district_label: str
    state_label: str
    #: The districts of the local areas, by name.
    district_names: tuple[str, ...] = ()

    @property
    def local_names(self) -> list[str]:
        return [area.name for area in self.local]

    @property
    def local_named(self) -> str | None:
        """The local areas by name when there is one, or two short ones (else counted)."""
        return named(self.local_names)

    @property
    def local_heading(self) -> str:
        """One line: "In your areas" (named beneath: `local_named`), or "In your 45 areas"."""
        if self.local_named or not self.local:
            return "In your areas"
        return f"In your {counted(len(self.local), 'area')}"

    @property
    def local_where(self) -> str:
        """For an empty group: "Brimbank and Melton", or "your 45 areas"."""
        return self.local_named or f"your {counted(len(self.local), 'area')}"

    @property
    def district_named(self) -> str | None:
        return named(self.district_names)

    @property
    def district_heading(self) -> str:
        """One line: "Elsewhere in Brimbank Melton", or "Elsewhere in 13 districts"."""
        if not self.district_names:
            return f"Elsewhere in {self.district_label}"
        names = self.district_named or counted(len(self.district_names), "district")
        return f"Elsewhere in {names}"


@dataclass(frozen=True)
class Areas:
    """Where a practitioner works: the councils they chose (in their order), and, by name,
    those of clients whose teams they are on and did not choose, each with how many teams."""

    chosen: list[Area]
    automatic: list[tuple[Area, int]]
    #: Whether the automatic ones count as theirs (Practitioner.automatic_areas).
    use_automatic: bool = True

    @property
    def mine(self) -> list[Area]:
        """Where search looks first: those chosen, and those of their clients unless they
        turned that off."""
        if not self.use_automatic:
            return list(self.chosen)
        return self.chosen + [area for area, _teams in self.automatic]


#: Each process keeps every practitioner's areas and scopes until their `scope_version` moves
#: on (joining, leaving, choosing areas): at most this many practitioners, then it starts over.
KEPT = 5000
_kept: dict[int, tuple[tuple[int, object, bool], Areas, Scopes]] = {}

#: Their chosen areas and their current teams' areas: one statement.
AREAS_SQL = (
    "SELECT 0 AS team, area_id, position, id FROM practitioner_area WHERE practitioner_id = {p} "
    "UNION ALL SELECT 1 AS team, c.area_id, 0, 0 FROM membership m JOIN client c "
    "ON c.id = m.client_id WHERE m.practitioner_id = {p} AND m.ended_at IS NULL"
)


async def _read_areas(practitioner_id: int, use_automatic: bool = True) -> Areas:
    tree = await area_tree()
    rows = await connections.get("default").execute_query_dict(
        AREAS_SQL.format(p=int(practitioner_id))
    )
    chosen_ids = [
        int(r["area_id"]) for r in sorted((r for r in rows if not r["team"]), key=_position)
    ]
    teams = Counter(int(r["area_id"]) for r in rows if r["team"])
    chosen = [a for i in chosen_ids if (a := tree.get(i)) is not None]
    automatic = [(area, teams[area.id]) for area in tree.named(set(teams) - set(chosen_ids))]
    return Areas(chosen, automatic, use_automatic)


def _position(row: dict[str, int]) -> tuple[int, int]:
    return int(row["position"]), int(row["id"])


def _scopes(practitioner: Practitioner, areas: Areas, tree: AreaTree) -> Scopes:
    local = areas.mine
    if not local:  # nothing chosen yet: the organisation's own council
        own = tree.get(practitioner.organisation.area_id)  # type: ignore[attr-defined]
        local = [own] if own is not None else []
    district_ids = {a.parent_id for a in local if a.parent_id}  # type: ignore[attr-defined]
    local_ids = {a.id for a in local}
    districts = tree.named(district_ids)
    return Scopes(
        local=local,
        district_council_ids=[
            a.id for a in tree.councils_in(district_ids) if a.id not in local_ids
        ],
        district_label=" and ".join(d.name for d in districts) or "your district",
        state_label=tree.state.name if tree.state else "the state",
        district_names=tuple(d.name for d in districts),
    )


async def _kept_for(practitioner: Practitioner) -> tuple[Areas, Scopes]:
    # With when they signed up: a database emptied and filled again (as tests do) may give the
    # same id to someone else, at the same version. Turning automatic areas off or on moves
    # the version on too; the choice is in the stamp as well, so no process can miss it.
    use_automatic = practitioner.automatic_areas
    stamp = (practitioner.scope_version, practitioner.created_at, use_automatic)
    kept = _kept.get(practitioner.id)
    if kept is not None and kept[0] == stamp:
        return kept[1], kept[2]
    areas = await _read_areas(practitioner.id, use_automatic)
    scopes = _scopes(practitioner, areas, await area_tree())
    if len(_kept) >= KEPT:
        _kept.clear()
    _kept[practitioner.id] = (stamp, areas, scopes)
    return areas, scopes


async def my_areas(practitioner: Practitioner) -> Areas:
    """The practitioner's areas (no statement while their scope version stands)."""
    return (await _kept_for(practitioner))[0]


async def search_scopes(practitioner: Practitioner) -> Scopes:
    """Where their searches look (no statement while their scope version stands)."""
    return (await _kept_for(practitioner))[1]


def forget_all() -> None:
    """Forget every practitioner's areas (the tests empty the database between tests)."""
    _kept.clear()


async def scope_changed(practitioner_id: int) -> None:
    """Their areas, teams or choice of automatic areas changed: every process reads them
    afresh on their next request."""
    await Practitioner.filter(id=practitioner_id).update(scope_version=F("scope_version") + 1)


async def administered_council_ids(practitioner: Practitioner) -> list[int] | None:
    """The councils an administrator looks after: None for every one (a state administrator,
    or a local one holding the state), the councils of a local administrator's districts and
    councils, and none for anyone else."""
    if practitioner.role == "state_admin":
        return None
    if practitioner.role != "local_admin":
        return []
    held = await AdminArea.filter(practitioner_id=practitioner.id).values_list(
        "area_id", "area__kind"
    )
    if any(kind == "state" for _id, kind in held):
        return None
    councils = {int(str(area_id)) for area_id, kind in held if kind == "council"}
    districts = [int(str(area_id)) for area_id, kind in held if kind != "council"]
    councils.update(a.id for a in (await area_tree()).councils_in(districts))
    return sorted(councils)
