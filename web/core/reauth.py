"""A recent sign-in, for changes that must not be made from a device someone else picked up:
removing a passkey, and every change an administrator makes to what is not their own.

Without a sign-in (passkey or link) in the last REAUTH_WINDOW (15 minutes), the answer is a
page asking for one, whose sign-in returns to the form the change was made from.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from web.core.auth import REAUTH_WINDOW
from web.core.clock import now
from web.core.errors import error_page


def signed_in_recently(request: Request) -> bool:
    return bool(now() - request.state.session.authenticated_at <= REAUTH_WINDOW)


def sign_in_again(request: Request, doing: str, back_to: str) -> Response:
    """The refusal: `doing` says what needs it ("To remove a passkey"), `back_to` is the form."""
    return error_page(
        request,
        403,
        f"{doing}, sign in again first (it keeps your account safe if someone else picks up "
        "this device).",
        title="Please sign in again",
        action_url=f"/signin?next={quote(back_to, safe='')}",
        action_label="Sign in again",
    )
