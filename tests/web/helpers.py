"""Helpers for in-process HTTP tests."""

from __future__ import annotations

import re

import httpx

from models.practitioners import Practitioner
from web.core.signins import create_signin_token


async def csrf_token(client: httpx.AsyncClient, path: str = "/signin") -> str:
    """Load a page and read its CSRF token (this also sets the CSRF cookie)."""
    html = (await client.get(path)).text
    found = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert found, f"no csrf meta on {path}"
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, practitioner: Practitioner) -> httpx.Response:
    """Sign in through the real link flow (token created directly, as if read from email)."""
    token = await create_signin_token(practitioner)
    response = await client.post(
        "/signin/link", data={"token": token, "csrf_token": await csrf_token(client)}
    )
    assert response.status_code == 303, response.text
    return response


CSRF_TOKENS = re.compile(r'(name="csrf-token" content=|name="csrf_token" value=)"[^"]+"')


def without_csrf(html: str) -> str:
    """The page without its CSRF tokens (masked afresh on every page), for comparing pages."""
    return CSRF_TOKENS.sub(r'\1"…"', html)
