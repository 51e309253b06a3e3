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
from web.core.render import page_or_block


def signed_in_recently(request: Request) -> bool:
    return bool(now() - request.state.session.authenticated_at <= REAUTH_WINDOW)


def sign_in_again(request: Request, doing: str, back_to: str) -> Response:
    """The refusal: `doing` says what needs it ("To remove a passkey"), `back_to` is the form."""
    # The error page's template through render directly (not errors.error_page): that keeps
    # the administration pages' import chain within tests/test_layout.py's depth.
    return page_or_block(
        request,
        "errors/error.html",
        {
            "status_code": 403,
            "title": "Please sign in again",
            "message": f"{doing}, sign in again first (it keeps your account safe if someone "
            "else picks up this device).",
            "action_url": f"/signin?next={quote(back_to, safe='')}",
            "action_label": "Sign in again",
        },
        status_code=403,
    )
