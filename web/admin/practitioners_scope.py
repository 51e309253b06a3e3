"""Whom an administrator may manage, and which areas they may hand on.

A practitioner is in an administrator's reach when their organisation is based in a council
the administrator looks after (anyone, for a state administrator); outside it they are not
found at all (404, as an id that does not exist). Within reach, a local administrator may not
change a state administrator, nor a local administrator looking after anything beyond their
own councils; nobody changes their own account here.

`looked_after` is always what `rules.councils` answers: the council ids, or None for all.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.exceptions import HTTPException
from tortoise.expressions import Q

from models.areas import Area
from models.practitioners import AdminArea, Practitioner
from web.core.areas import area_tree
from web.core.scopes import administered_council_ids


def reach(looked_after: list[int] | None) -> Q:
    """Practitioners whose organisation is based in these councils (None: every one)."""
    return Q() if looked_after is None else Q(organisation__area_id__in=looked_after)


async def in_reach(practitioner_id: int, looked_after: list[int] | None) -> Practitioner:
    """The practitioner, when in reach; else 404."""
    found = await Practitioner.get_or_none(reach(looked_after), id=practitioner_id).select_related(
        "organisation__area", "organisation_vouched_by"
    )
    if found is None:
        raise HTTPException(404)
    return found


def covers(mine: list[int] | None, theirs: list[int] | None) -> bool:
    """Whether councils `mine` include all of `theirs` (None: every council)."""
    return mine is None or (theirs is not None and set(theirs) <= set(mine))


async def why_not(actor: Practitioner, target: Practitioner, looked_after: list[int] | None) -> str:
    """Why `actor` may not change `target` (empty when they may)."""
    if target.id == actor.id:
        return "You can't change your own account here: ask another administrator."
    if actor.role == "state_admin":
        return ""
    if target.role == "state_admin":
        return "Only a state administrator can change a state administrator's account."
    if target.role == "local_admin" and not covers(
        looked_after, await administered_council_ids(target)
    ):
        return (
            "They look after areas beyond yours: only an administrator of all their areas, or "
            "a state administrator, can change their account."
        )
    return ""


@dataclass(frozen=True)
class Grantable:
    """The areas an administrator may hand on: whole districts they look after, and councils."""

    groups: list[tuple[Area, bool, list[Area]]]  # (district, whole district grantable, councils)
    ids: set[int]
    state: Area | None  # the whole state, for a state administrator


async def grantable(
    looked_after: list[int] | None, choices: list[tuple[Area, list[Area]]]
) -> Grantable:
    """From `choices` (`rules.area_choices`: districts and their councils looked after)."""
    tree = await area_tree()
    groups = []
    ids: set[int] = set()
    for district, in_district in choices:
        beneath = [c.id for c in tree.councils_in([district.id])]
        whole = looked_after is None or (bool(beneath) and set(beneath) <= set(looked_after))
        groups.append((district, whole, in_district))
        ids.update(c.id for c in in_district)
        if whole:
            ids.add(district.id)
    state = tree.state if looked_after is None else None
    if state is not None:
        ids.add(state.id)
    return Grantable(groups, ids, state)


async def held_areas(practitioner: Practitioner) -> list[Area]:
    """The areas a local administrator looks after, by name."""
    return [
        held.area
        for held in await AdminArea.filter(practitioner_id=practitioner.id)
        .select_related("area")
        .order_by("area__name")
    ]
