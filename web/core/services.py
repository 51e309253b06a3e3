"""The organisations the directory searches for services, kept by each process in memory.

Organisations change rarely (an administrator's edit), and the directory reads them on every
search. So each process keeps them all, stamped with `directory_version`: a number triggers
move whenever any organisation row changes (migration 0015), read with the session on every
request (web/core/sessions.py). A search whose version matches what the process keeps costs
no statement; otherwise one, which every process then keeps until the next change.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise import connections

from models.organisations import Organisation
from web.core import db, tables
from web.core.areas import area_tree


@dataclass(frozen=True)
class Kept:
    opened: int  # web/core/db.py `opened`: what was kept of one database is never used for another
    version: int | None
    organisations: list[Organisation]
    #: Each organisation's name and service type, lower case, for the substring match.
    texts: list[str]


_kept: list[Kept] = []


async def organisations(version: int | None) -> Kept:
    """Every organisation, by name (areas loaded), as of `version` (None: read afresh)."""
    kept = _kept[0] if _kept else None
    if kept is not None and kept.opened == db.opened and version is not None:
        if kept.version == version:
            return kept
    statement = f"SELECT {tables.columns((Organisation, 'o'))} FROM organisation o ORDER BY o.name"
    tree = await area_tree()
    found = []
    for row in await connections.get("default").execute_query_dict(statement):
        organisation = tables.as_model(Organisation, row, "o")
        organisation.area = tree.get(organisation.area_id)  # type: ignore[assignment,attr-defined]
        found.append(organisation)
    fresh = Kept(db.opened, version, found, [f"{o.name}\n{o.service_type}".lower() for o in found])
    _kept[:] = [fresh]
    return fresh


def matching(kept: Kept, alternatives: list[list[str]], most: int) -> list[Organisation]:
    """The first `most` organisations (by name) matching every term: for each, one of its
    alternatives is part of the name or the service type, case ignored (as `icontains`)."""
    wanted = [[a.lower() for a in forms] for forms in alternatives]
    found = []
    for organisation, text in zip(kept.organisations, kept.texts, strict=True):
        if all(any(a in text for a in forms) for forms in wanted):
            found.append(organisation)
            if len(found) == most:
                break
    return found
