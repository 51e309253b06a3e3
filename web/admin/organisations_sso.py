"""Checking an organisation's OpenID Connect settings as web/signin/sso.py will use them:
an https issuer exactly as the provider names itself (its discovery document must say the
same), a client id, and a client secret, all three or none."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

#: Column lengths (models/organisations.py).
LIMITS = {"oidc_issuer": 300, "oidc_client_id": 200, "oidc_client_secret": 300}
#: Visible ASCII: no spaces, nothing a provider would not have issued.
PRINTABLE = re.compile(r"[\x21-\x7e]+")


def sso_problem(values: dict[str, Any], new_secret: str, *, stored: bool) -> tuple[str, str] | None:
    """Single sign-on needs all three settings, or none: (field, message) when it is neither."""
    issuer, client_id = values["oidc_issuer"], values["oidc_client_id"]
    if issuer:
        parts = urlsplit(issuer) if PRINTABLE.fullmatch(issuer) else None
        if len(issuer) > LIMITS["oidc_issuer"]:
            return "oidc_issuer", f"Enter an issuer of at most {LIMITS['oidc_issuer']} characters"
        if (
            parts is None
            or parts.scheme != "https"
            or not parts.hostname
            or parts.username
            or parts.password
            or parts.query
            or parts.fragment
        ):
            return (
                "oidc_issuer",
                "Enter the issuer as an https address, like https://login.example.org",
            )
    if client_id and (
        len(client_id) > LIMITS["oidc_client_id"] or not PRINTABLE.fullmatch(client_id)
    ):
        return (
            "oidc_client_id",
            "Enter the client id the provider gave you (letters, digits and symbols, no spaces)",
        )
    if new_secret and (
        len(new_secret) > LIMITS["oidc_client_secret"] or not PRINTABLE.fullmatch(new_secret)
    ):
        return "oidc_client_secret", "Enter the client secret the provider gave you (no spaces)"
    if issuer and not client_id:
        return "oidc_client_id", "Enter the client id too, or remove the issuer"
    if client_id and not issuer:
        return "oidc_issuer", "Enter the issuer too, or remove the client id"
    if issuer and not (new_secret or stored):
        return "oidc_client_secret", "Enter the client secret the provider gave you"
    if new_secret and not issuer:
        return "oidc_issuer", "Enter the issuer and client id this secret belongs to"
    return None
