"""The area trees come from the reference files copied into models/data."""

from __future__ import annotations

from models.areas import Area
from web.core.areas import reference_rows


async def test_victoria_has_the_state_17_dffh_areas_and_79_councils(db):
    state = await Area.get(code="AU-VIC")
    districts = await Area.filter(parent=state, kind="district")
    assert len(districts) == 17
    councils = await Area.filter(parent_id__in=[d.id for d in districts], kind="council")
    assert len(councils) == 79
    brimbank = await Area.get(name="Brimbank").select_related("parent")
    assert brimbank.parent.name == "Brimbank Melton"


def test_the_uk_pilot_tree_is_complete():
    rows = reference_rows("UK-PILOTS")
    codes = {row["code"] for row in rows}
    roots = [row for row in rows if not row["parent_code"]]
    assert len(roots) == 1
    assert all(row["parent_code"] in codes for row in rows if row["parent_code"])
    assert {row["kind"] for row in rows} >= {"state", "council"}
