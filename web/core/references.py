"""References to a client a page has shown a practitioner: signed, short-lived, bound to both.

A join page needs one (no register of clients by id: docs/SECURITY.md). Kept apart from the
visibility rules so that every page can link to joining without loading them.
"""

from __future__ import annotations

from urllib.parse import urlencode

from itsdangerous import BadSignature, TimestampSigner

from web.core import clock


def _signer(secret_key: str, practitioner_id: int, client_id: int) -> TimestampSigner:
    # The ids are in the salt, not the payload: the reference says nothing, it only proves.
    salt = f"patchwork-client-reference:{practitioner_id}:{client_id}"
    return clock.TimestampSigner(secret_key, salt=salt)


def client_reference(secret_key: str, practitioner_id: int, client_id: int) -> str:
    """Proof that `practitioner_id` was shown `client_id` just now (valid REFERENCE_HOURS)."""
    return _signer(secret_key, practitioner_id, client_id).sign("shown").decode()


def reference_is_valid(secret_key: str, ref: str, practitioner_id: int, client_id: int) -> bool:
    """True for an unexpired reference minted for this practitioner and this client."""
    try:
        _signer(secret_key, practitioner_id, client_id).unsign(ref, max_age=REFERENCE_HOURS * 3600)
    except (BadSignature, ValueError, TypeError):
        return False
    return True


def join_url(secret_key: str, practitioner_id: int, client_id: int) -> str:
    """The "Join team" link for a client shown to `practitioner_id`."""
    ref = client_reference(secret_key, practitioner_id, client_id)
    return f"/clients/{client_id}/join?" + urlencode({"ref": ref})


#: How long a "Join team" link stays good after the client was shown.
REFERENCE_HOURS = 2
