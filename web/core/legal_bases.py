"""The legal bases for sharing a client's team without consent, per deployment: the reference
file copied into models/data (reference wording: a deployment's information-governance team
confirms its own list). A client keeps the basis's code; pages show its label."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

#: Beside the area trees (web/core/areas.py reads those).
FILE = Path(__file__).resolve().parents[2] / "models" / "data" / "legal-bases.csv"


@cache
def _rows() -> tuple[tuple[str, str, str], ...]:
    with FILE.open(newline="", encoding="utf-8") as rows:
        return tuple((r["deployment"], r["code"], r["label"]) for r in csv.DictReader(rows))


def legal_bases(deployment: str) -> dict[str, str]:
    """Code → label of the bases a practitioner may choose in this deployment, in order."""
    return {code: label for where, code, label in _rows() if where == deployment}


def basis_label(code: str) -> str:
    """What a stored basis says (a client added before the codes keeps its words)."""
    return next((label for _where, known, label in _rows() if known == code), code)
