"""A practitioner's areas, and the scopes a search looks in: the areas they chose, then those
of their clients; then their district; then the state."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from models.areas import Area
from models.practitioners import AdminArea, Practitioner, PractitionerArea
from models.teams import Membership
from web.core.access import current


@dataclass(frozen=True)
class Scopes:
    """Where a practitioner's searches look, nearest first."""

    local: list[Area]
    district_council_ids: list[int]
    district_label: str
    state_label: str


async def my_areas(practitioner: Practitioner) -> list[Area]:
    """The areas chosen (in order), then, automatically, those of clients whose teams they
    are on."""
    chosen = [
        link.area
        for link in await PractitionerArea.filter(practitioner_id=practitioner.id)
        .select_related("area")
        .order_by("position", "id")
    ]
    automatic = await automatic_areas(practitioner.id, [a.id for a in chosen])
    return chosen + [area for area, _teams in automatic]


async def automatic_areas(practitioner_id: int, chosen: list[int]) -> list[tuple[Area, int]]:
    """The council areas added because the practitioner is on a client's team there (and did
    not choose), by name, each with how many of their teams are there."""
    teams = await Membership.filter(current(), practitioner_id=practitioner_id).values_list(
        "client__area_id", flat=True
    )
    counts = Counter(int(str(area_id)) for area_id in teams if area_id not in chosen)
    areas = await Area.filter(id__in=list(counts)).order_by("name")
    return [(area, counts[area.id]) for area in areas]


async def search_scopes(practitioner: Practitioner) -> Scopes:
    local = await my_areas(practitioner)
    if not local:  # nothing chosen yet: the organisation's own council
        await practitioner.fetch_related("organisation__area")
        local = [practitioner.organisation.area]
    district_council_ids = sorted({a.parent_id for a in local if a.parent_id})  # type: ignore[attr-defined]
    districts = await Area.filter(id__in=district_council_ids).order_by("name")
    state = await Area.filter(kind="state").first()
    councils = await Area.filter(parent_id__in=district_council_ids, kind="council").values_list(
        "id", flat=True
    )
    local_ids = {a.id for a in local}
    return Scopes(
        local=local,
        district_council_ids=[i for i in councils if i not in local_ids],  # type: ignore[misc]
        district_label=" and ".join(d.name for d in districts) or "your district",
        state_label=state.name if state else "the state",
    )


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
    districts = [area_id for area_id, kind in held if kind != "council"]
    if districts:
        beneath = Area.filter(parent_id__in=districts, kind="council")
        councils.update(await beneath.values_list("id", flat=True))  # type: ignore[arg-type]
    return sorted(councils)
