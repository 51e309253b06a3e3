"""Chromium's virtual authenticator (CDP WebAuthn domain) for passkey tests."""

from __future__ import annotations

from typing import Any

AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}


async def add_authenticator(page: Any) -> tuple[Any, str]:
    """Attach a platform authenticator to `page` (before it calls navigator.credentials)."""
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("WebAuthn.enable")
    added = await cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    return cdp, added["authenticatorId"]


async def stored_credentials(cdp: Any, authenticator_id: str) -> list[dict[str, Any]]:
    result = await cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
    return list(result["credentials"])
