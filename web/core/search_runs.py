"""As-you-type search runs: typing "mia", "mia t", "mia th" is one search, counted once against
the hourly limit (web/core/ratelimit.py), each step still audited.

A counted search's results carry a signed run token: the query's hash (the token names
nothing), when the run began and how many steps it has had. The next request is free when it
brings the token and the query it refines (`after`), and its own query extends or shortens
that one, within RUN_SECONDS of the run's start and RUN_STEPS steps. Anything else counts as
a new search. So a run cannot be stretched: at most RUN_STEPS free steps, along one line of
typing, for each search counted."""

from __future__ import annotations

import hashlib

from itsdangerous import BadSignature, Signer

from web.core.clock import now

RUN_SECONDS = 90
RUN_STEPS = 12


def _signer(secret_key: str, practitioner_id: int) -> Signer:
    return Signer(secret_key, salt=f"patchwork-search-run:{practitioner_id}")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def started(secret_key: str, practitioner_id: int, text: str) -> str:
    """The token of a run that begins with this (counted) search."""
    return _token(secret_key, practitioner_id, text, int(now().timestamp()), 0)


def _token(secret_key: str, practitioner_id: int, text: str, began: int, steps: int) -> str:
    payload = f"{_digest(text)}|{began}|{steps}"
    return _signer(secret_key, practitioner_id).sign(payload).decode()


def continued(secret_key: str, practitioner_id: int, run: str, after: str, text: str) -> str:
    """The run's next token when `text` refines `after` within the run, else ""."""
    try:
        payload = _signer(secret_key, practitioner_id).unsign(run[:200]).decode()
        digest, began_text, steps_text = payload.split("|")
        began, steps = int(began_text), int(steps_text)
    except (BadSignature, ValueError, UnicodeDecodeError):
        return ""
    fresh = 0 <= now().timestamp() - began <= RUN_SECONDS
    related = text.startswith(after) or after.startswith(text)
    if digest != _digest(after) or not fresh or steps >= RUN_STEPS or not related or not text:
        return ""
    return _token(secret_key, practitioner_id, text, began, steps + 1)
