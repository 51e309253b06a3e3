"""The one clock: every "now" and "today" in the app comes from here, so tests can move it.

`now()` is an aware UTC datetime; `today()` is the date in the deployment's `TIME_ZONE`
(a Melbourne practitioner's "today", whatever zone the server's own clock is in);
`TimestampSigner` is itsdangerous's signer on this clock, for anything signed that expires.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import itsdangerous

_zone = ZoneInfo("Australia/Melbourne")
#: Added to the real time: tests move the clock with `shifted`.
_offset = timedelta(0)


def set_time_zone(name: str) -> None:
    """The deployment's zone (create_app calls this from TIME_ZONE)."""
    global _zone
    _zone = ZoneInfo(name)


def zone() -> ZoneInfo:
    return _zone


def now() -> datetime:
    return datetime.now(UTC) + _offset


def local_now() -> datetime:
    return now().astimezone(_zone)


def as_local(moment: datetime) -> datetime:
    """An aware moment in the deployment's zone."""
    return moment.astimezone(_zone)


def today() -> date:
    return local_now().date()


@contextmanager
def shifted(delta: timedelta) -> Iterator[None]:
    """Move the app's clock by `delta` for the duration (tests only)."""
    global _offset
    before = _offset
    _offset = before + delta
    try:
        yield
    finally:
        _offset = before


class TimestampSigner(itsdangerous.TimestampSigner):
    """itsdangerous's signer, timestamped by this clock: what it signs expires on the app's
    time, which tests can move (the machine's clock is never read directly)."""

    def get_timestamp(self) -> int:
        return int(now().timestamp())
