"""axe-core in the browser tests: every page a test visits is checked against WCAG 2.2 AA."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]


@cache
def axe_source() -> str:
    if not AXE.exists():
        raise RuntimeError("axe-core is missing: run the test command (python -m tests) once")
    return AXE.read_text()


class AxeTracker:
    """Remembers each address the page loaded, and which of them axe checked."""

    def __init__(self, page: Any) -> None:
        self.loaded: list[str] = []
        self.checked: set[str] = set()
        page.on("domcontentloaded", lambda p: self.loaded.append(p.url.split("#")[0]))

    def assert_all_checked(self) -> None:
        missed = sorted({url for url in self.loaded if url not in self.checked})
        assert not missed, f"pages visited without an axe check: {missed}"


async def axe(page: Any) -> None:
    """Run axe on the current page; fail on any violation."""
    await page.wait_for_load_state("domcontentloaded")
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through CDP, so the page's CSP (no inline script) does not block it.
        await page.evaluate(axe_source())
    result = await page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS
    )
    violations = [
        {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
    ]
    assert not violations, f"axe found problems on {page.url}:\n{json.dumps(violations, indent=1)}"
    tracker: AxeTracker = page.axe_tracker
    tracker.checked.add(page.url.split("#")[0])
