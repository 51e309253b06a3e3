"""Sign-in rules every way in shares: email addresses, single-use links and their limits, and
what a successful or refused sign-in records."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from tortoise.transactions import in_transaction

from models.auth import SignInToken
from models.practitioners import Practitioner
from web.core import audit, ratelimit
from web.core.auth import (
    now,
    start_session,
    token_hash,
)
from web.core.notify import enqueue_email

LINK_LIFETIME = timedelta(minutes=15)


EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_email(value: str) -> str:
    return value.strip().lower()


#: RFC 5321's limit, and the length of every email column.
MAX_EMAIL_LENGTH = 254


def valid_email(email: str) -> bool:
    """An address (already normalised) shaped like one that fits every email column: the one
    check every form that takes an email makes."""
    return len(email) <= MAX_EMAIL_LENGTH and EMAIL_SHAPE.match(email) is not None


async def create_signin_token(practitioner: Practitioner, next_path: str = "/") -> str:
    """A fresh single-use token for `practitioner` (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    moment = now()
    await SignInToken.create(
        token_hash=token_hash(token),
        email=practitioner.email,
        practitioner=practitioner,
        next_path=next_path,
        created_at=moment,
        expires_at=moment + LINK_LIFETIME,
    )
    return token


def signin_url(base_url: str, token: str) -> str:
    return f"{base_url}/signin/link?{urlencode({'token': token})}"


def address_key(email: str) -> str:
    return "signin:addr:" + hashlib.sha256(email.encode()).hexdigest()[:32]


async def may_email_link(
    request: Request, practitioner: Practitioner, ip_within_limit: bool
) -> bool:
    """Within SIGNIN_RATE_PER_HOUR emails an hour to one address (and SIGNIN_PER_IP_PER_HOUR
    requests an hour from the requester's IP); beyond either, only when the address has no
    live link left (at most one per LINK_LIFETIME), so however many requests someone else
    makes, from anywhere or from the same clinic, the real person always has a working link
    in their inbox."""
    settings = request.app.state.settings
    if ip_within_limit and await ratelimit.hit(
        address_key(practitioner.email), settings.signin_rate_per_hour
    ):
        return True
    live = await SignInToken.filter(
        practitioner_id=practitioner.id,
        purpose="signin",
        used_at__isnull=True,
        expires_at__gt=now(),
    ).exists()
    if not live:
        return True
    reason = "address limit" if ip_within_limit else "ip limit"
    await audit.record(
        request, "signin.capped", actor_id=practitioner.id, reason=f"{reason}, link live"
    )
    return False


async def send_signin_link(
    request: Request, practitioner: Practitioner, next_path: str, ip_within_limit: bool = True
) -> None:
    """Email a sign-in link unless it is capped (see may_email_link)."""
    if not await may_email_link(request, practitioner, ip_within_limit):
        return
    settings = request.app.state.settings
    async with in_transaction():
        token = await create_signin_token(practitioner, next_path)
        await enqueue_email(
            practitioner.email,
            "Your Patchwork sign-in link",
            "Hello,\n\n"
            "Open this link to sign in to Patchwork. It works once, for the next 15 minutes:\n\n"
            f"{signin_url(settings.base_url, token)}\n\n"
            "If you did not ask to sign in, you can ignore this email.\n\n"
            "Patchwork shows you which other professionals are working with your client.\n",
            urgent=True,
        )


async def refuse_signin(
    request: Request, practitioner_id: int | None, method: str, reason: str, *, charge: bool = True
) -> None:
    """Audit a failed sign-in, and (unless `charge` is False) count it against the account it
    names. Only passkey sign-in heeds the count (web/signin/passkeys.py,
    `ratelimit.account_locked`)."""
    await audit.record(
        request, "signin.failed", actor_id=practitioner_id, method=method, reason=reason
    )
    if practitioner_id is not None and charge:
        await ratelimit.record_failure(practitioner_id)


async def complete_signin(
    request: Request, practitioner: Practitioner, method: str, response: Response
) -> Response:
    """Start a session for `practitioner` on `response`. An account's failed sign-ins never
    refuse it here: emailed links are single-use secrets and the way to recover, so the
    account lock stops passkey sign-ins only (web/signin/passkeys.py)."""
    await start_session(request, response, practitioner, method)
    await audit.record(request, "signin.succeeded", actor_id=practitioner.id, method=method)
    return response
