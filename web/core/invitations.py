"""Invitations to Patchwork: created, emailed and opened the same way from a team, from a
colleague, from signup and from the command line."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from models.invitations import VALID_DAYS, Invitation
from models.organisations import Organisation
from models.practitioners import Practitioner
from web.core import audit, ratelimit
from web.core.auth import me, now, token_hash
from web.core.errors import too_many_requests
from web.core.notify import enqueue_email
from web.core.settings import Settings

#: Two sentences every invitation and verification email opens with.
ABOUT = (
    "Patchwork shows frontline practitioners which other professionals are working with the "
    "same client, and how to reach them. It connects people: it holds no case notes."
)


async def send_invitation(
    settings: Settings,
    email: str,
    invited_by: Practitioner | None,
    *,
    client_id: int | None = None,
    role: str = "practitioner",
    invitation: Invitation | None = None,
    organisation: Organisation | None = None,
) -> tuple[Invitation, str]:
    """Create (or renew) an invitation and queue its email: a fresh token, 14 more days.
    It names `organisation` (by default the inviter's; see web/core/vouching.py). Returns it with
    its link. Call inside the transaction of the change."""
    token = secrets.token_urlsafe(32)
    link = f"{settings.base_url}/invitations/{token}"
    fields: dict[str, Any] = {
        "token_hash": token_hash(token),
        "sent_at": now(),
        "expires_at": now() + timedelta(days=VALID_DAYS),
    }
    if invitation is None:
        named = organisation.id if organisation else None
        if named is None and invited_by is not None:
            named = invited_by.organisation_id
        invitation = await Invitation.create(
            email=email,
            invited_by=invited_by,
            client_id=client_id,
            role=role,
            organisation_id=named,
            **fields,
        )
        # Whoever invites vouches for the invitee's organisation: the record says who and which.
        await audit.record(
            None,
            "invitation.organisation",
            actor_id=invited_by.id if invited_by else None,
            invitation_id=invitation.id,
            organisation_id=named,
        )
    else:
        await invitation.update_from_dict(fields).save()
    if client_id is not None:
        # Never the inviter's organisation: it could be a discreet member's sensitive service.
        who = (
            "A colleague has invited you to Patchwork, to join the team around one of their clients"
        )
    elif invited_by is not None:
        await invited_by.fetch_related("organisation")
        who = f"A colleague at {invited_by.organisation.name} has invited you to Patchwork"
    else:
        who = "You have been invited to Patchwork"
    await enqueue_email(
        email,
        "You're invited to Patchwork",
        f"{who}.\n\n{ABOUT}\n\nTo get started, open this link (it works for {VALID_DAYS} days):\n"
        f"{link}\n\nIt takes about two minutes: your name, "
        "your organisation, your phone numbers and your areas.\n",
        urgent=True,
    )
    return invitation, link


async def open_invitation(token: str) -> Invitation | None:
    """A usable invitation: not expired, revoked or already accepted."""
    return await Invitation.get_or_none(
        token_hash=token_hash(token),
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=now(),
    ).select_related("invited_by__organisation")


#: Invitations and resends one practitioner may send in an hour, all kinds together: each
#: emails or alerts someone else.
INVITATIONS_PER_HOUR = 20


async def invitation_waiting(email: str, client_id: int | None = None) -> bool:
    """Whether an invitation to `email` (to that client's team, when given) can still be used."""
    waiting = Invitation.filter(
        email=email, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now()
    )
    if client_id is not None:
        waiting = waiting.filter(client_id=client_id)
    return await waiting.exists()


async def within_invitation_limit(request: Request) -> bool:
    """Count one invitation or resend by the signed-in practitioner; False past the cap
    (audited as `invitation.refused`)."""
    if await ratelimit.hit(f"invite:{me(request).id}", INVITATIONS_PER_HOUR):
        return True
    await audit.record(request, "invitation.refused", reason="rate limit")
    return False


def too_many_invitations(request: Request) -> Response:
    return too_many_requests(
        request,
        f"You have sent {INVITATIONS_PER_HOUR} invitations in the last hour, the most Patchwork "
        "allows: each one emails or alerts a colleague, and the limit keeps anyone from using "
        "Patchwork to flood an inbox. Try again in an hour.",
    )
