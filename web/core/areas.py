"""The deployment's area tree: loaded from the reference file copied into models/data, and
kept in memory by every process."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from models.areas import Area

DATA = Path(__file__).resolve().parents[2] / "models" / "data"
DEPLOYMENT_FILES = {"AU-VIC": "au-vic.csv", "UK-PILOTS": "uk-pilots.csv"}


def reference_rows(deployment: str) -> list[dict[str, str]]:
    try:
        name = DEPLOYMENT_FILES[deployment]
    except KeyError:
        known = ", ".join(DEPLOYMENT_FILES)
        raise SystemExit(f"Unknown DEPLOYMENT {deployment!r}: use one of {known}") from None
    with (DATA / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


async def load_areas(deployment: str) -> dict[str, Area]:
    """Create the areas that are missing (parents first); return every area by code."""
    existing = {area.code: area for area in await Area.all()}
    for row in reference_rows(deployment):  # the files list parents before children
        if row["code"] not in existing:
            parent = existing.get(row["parent_code"]) if row["parent_code"] else None
            existing[row["code"]] = await Area.create(
                code=row["code"], name=row["name"], kind=row["kind"], parent=parent
            )
    forget_area_tree()
    await area_tree()
    return existing


class AreaTree:
    """The whole area tree in memory: reference data, loaded once per process (a deployment's
    areas change only when `load_areas` runs, at migration), so no request queries it."""

    def __init__(self, areas: list[Area]) -> None:
        self.by_id = {area.id: area for area in areas}
        for area in areas:
            parent = self.by_id.get(area.parent_id) if area.parent_id else None
            if parent is not None:
                area.parent = parent
        self.by_name = sorted(areas, key=lambda a: (a.name, a.id))
        self.state = next((a for a in self.by_name if a.kind == "state"), None)

    def get(self, area_id: int | None) -> Area | None:
        return self.by_id.get(area_id) if area_id is not None else None

    def named(self, ids: Iterable[int]) -> list[Area]:
        """The areas of `ids` that exist, by name."""
        wanted = set(ids)
        return [a for a in self.by_name if a.id in wanted]

    def of_kind(self, kind: str) -> list[Area]:
        return [a for a in self.by_name if a.kind == kind]

    def councils_in(self, parent_ids: Iterable[int]) -> list[Area]:
        """The councils directly beneath `parent_ids` (districts), by name."""
        parents = set(parent_ids)
        return [a for a in self.by_name if a.kind == "council" and a.parent_id in parents]


_tree: AreaTree | None = None


async def area_tree() -> AreaTree:
    """The area tree, read from the database the first time a process asks."""
    global _tree
    if _tree is None:
        _tree = AreaTree(await Area.all())
    return _tree


def forget_area_tree() -> None:
    global _tree
    _tree = None
