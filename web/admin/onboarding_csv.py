"""Reading a staff list: CSV as spreadsheets save it (a byte-order mark, Excel's quoting, commas,
semicolons or tabs, Windows-1252 from older Excel), or rows pasted from one; a header row
naming the columns in any order, or none (then name, work email, job title, organisation).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from models.organisations import Organisation
from web.core.name_index import fold

MAX_BYTES = 256 * 1024
MAX_ROWS = 500
#: What a header cell may say for each column (folded: lower case, no accents, single spaces).
HEADINGS = {
    "name": ("name", "full name", "staff name", "names"),
    "email": ("work email", "email", "email address", "work email address", "e-mail", "mail"),
    "job_title": ("job title", "title", "role", "position", "job"),
    "organisation": ("organisation", "organization", "org", "service", "organisation name"),
}
ORDER = ("name", "email", "job_title", "organisation")
REQUIRED = ("name", "email", "organisation")
LABELS = {
    "name": "name",
    "email": "work email",
    "job_title": "job title",
    "organisation": "organisation",
}


class Unreadable(ValueError):
    """The file as a whole cannot be read: the message says why, for the form's error."""


@dataclass
class Row:
    """One staff member as the file gives them, and what is wrong with inviting them."""

    line: int
    name: str
    email: str
    job_title: str
    organisation_name: str
    organisation: Organisation | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def good(self) -> bool:
        return not self.problems


def decode(data: bytes) -> str:
    if b"\x00" in data:
        raise Unreadable(
            "That file is not a CSV: save the spreadsheet as “CSV UTF-8” and try again"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # older Excel's "CSV"


def heading(cell: str) -> str | None:
    wanted = re.sub(r"[\s_*:]+", " ", fold(cell)).strip()
    return next((column for column, names in HEADINGS.items() if wanted in names), None)


def tidy(cell: str) -> str:
    return re.sub(r"\s+", " ", cell).strip()


def read_rows(text: str) -> tuple[list[Row], bool]:
    """The rows of a staff list, and whether it had a header row."""
    sample = text.lstrip("\ufeff")
    first = sample.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count) if any(d in first for d in ",;\t") else ","
    try:
        lines = [
            (number, cells)
            for number, cells in enumerate(csv.reader(io.StringIO(sample), delimiter=delimiter), 1)
            if any(c.strip() for c in cells)
        ]
    except csv.Error as error:
        raise Unreadable(f"That file could not be read as CSV ({error})") from error
    if not lines:
        raise Unreadable("That file has no rows: choose the file with your staff list")
    columns = [heading(c) for c in lines[0][1]]
    has_header = sum(c is not None for c in columns) >= 2
    if has_header:
        missing = [LABELS[c] for c in REQUIRED if c not in columns]
        if missing:
            raise Unreadable(f"The header row has no column for {' or '.join(missing)}")
        lines = lines[1:]
    else:
        columns = list(ORDER)
    if len(lines) > MAX_ROWS:
        raise Unreadable(f"That file has {len(lines)} rows: send at most {MAX_ROWS} at a time")
    if not lines:
        raise Unreadable("That file has a header row but nobody in it")
    rows = []
    for number, cells in lines:
        values = {c: "" for c in ORDER}
        for column, cell in zip(columns, cells, strict=False):
            if column is not None and not values[column]:
                values[column] = tidy(cell)
        rows.append(
            Row(
                line=number,
                name=values["name"],
                email=values["email"].lower(),
                job_title=values["job_title"],
                organisation_name=values["organisation"],
            )
        )
    return rows, has_header


def organisation_key(name: str) -> str:
    """How a typed organisation name is matched: case, accents, dashes and spaces aside."""
    return re.sub(r"\s+", " ", re.sub(r"[-‐‑‒–—―]", "-", fold(name))).strip()
