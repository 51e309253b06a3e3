"""Reading form values: whole numbers, dates and birth dates or years, only in the ranges every
database here stores.

A value out of range, not ASCII, or not a string is None: the caller says what was wrong.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from web.core import clock

#: PostgreSQL's `integer`, the type of every id column.
MAX_ID = 2**31 - 1
#: Dates anywhere in Patchwork (births, meetings) fall well inside these; timedelta arithmetic
#: near date.max would overflow.
EARLIEST = date(1900, 1, 1)
LATEST = date(2100, 12, 31)
ASCII_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def form_int(value: object, *, low: int, high: int) -> int | None:
    """The number in `value` when it is ASCII digits between low and high; else None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    # isdigit() alone accepts "²" and "١٢"; the length cap keeps int() cheap.
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(high)) + 2:
        return None
    number = int(text)
    return number if low <= number <= high else None


def form_date(value: object, *, low: date = EARLIEST, high: date = LATEST) -> date | None:
    """The date in `value` when it is YYYY-MM-DD (ASCII) between low and high; else None."""
    if not isinstance(value, str) or not ASCII_DATE.fullmatch(value.strip()):
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        return None
    return day if low <= day <= high else None


def parse_born(text: str) -> tuple[date | None, int | None, str]:
    """A date (2019-08-02 or 2/8/2019) or a year; the third value is an error message."""
    text = text.strip()
    if not text:
        return None, None, ""
    if re.fullmatch(r"[0-9]{4}", text):
        year = int(text)
        if 1900 <= year <= clock.today().year:
            return None, year, ""
        return None, None, "Enter a year of birth between 1900 and this year"
    try:
        if "/" in text:
            day, month, year = (form_int(p, low=1, high=9999) or 0 for p in text.split("/"))
            born = date(year, month, day)
        else:
            born = date.fromisoformat(text)
    except ValueError:
        return None, None, "Enter a date of birth like 2/8/2019, or just the year"
    if not date(1900, 1, 1) <= born <= clock.today():
        return None, None, "Enter a date of birth in the past"
    return born, None, ""


def plain(text: str) -> str:
    """Text as the eye reads it: compatibility forms folded ("＠" is "@", "５" is "5"),
    invisible format characters (a zero-width space) removed, spaces made single."""
    folded = unicodedata.normalize("NFKC", text)
    return " ".join("".join(c for c in folded if unicodedata.category(c) != "Cf").split())
