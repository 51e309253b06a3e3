"""Loading the deployment's area tree from the reference file copied into models/data."""

from __future__ import annotations

import csv
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
    return existing
