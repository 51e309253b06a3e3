"""CSRF and security headers (web/core/security.py), rule by rule, down to the exact values.

Written to kill the mutants `python -m tests --mutate web/core/security.py` found surviving: each
header and cookie flag is compared whole, and each way a forged request can come is tried
alone, next to the same request that passes."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import httpx
import pytest

from models.audit import AuditEvent
from tests.web.helpers import csrf_token
from web.app import create_app
from web.core import inputs
from web.core.cookies import cookie_header, masked
from web.core.security import SecurityMiddleware
from web.core.settings import Settings, load

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; worker-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'"
)
HEADERS = {
    "content-security-policy": POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
    "x-frame-options": "DENY",
}


def production(db: str, smtp_url: str) -> Settings:
    return load(
        {
            "ENVIRONMENT": "production",
            "DATABASE_URL": db,
            "BASE_URL": "https://patchwork.example",
            "SECRET_KEY": "x" * 40,
            "SMTP_URL": smtp_url,
            "VAPID_PUBLIC_KEY": "pub",
            "VAPID_PRIVATE_KEY": "priv",
        }
    )


async def sign_in_form(client: httpx.AsyncClient, **headers: str) -> httpx.Response:
    """Ask for a sign-in link with this browser's token (the form posts to /signin)."""
    token = await csrf_token(client)
    return await client.post(
        "/signin", data={"email": "a@b.example", "csrf_token": token}, headers=headers
    )


async def test_every_response_carries_each_security_header_exactly(client):
    for path in ("/signin", "/nowhere", "/"):
        response = await client.get(path)
        for name, value in HEADERS.items():
            assert response.headers.get_list(name) == [value], (path, name)
        assert response.headers["cache-control"] == "no-store"
        assert "strict-transport-security" not in response.headers


async def test_a_response_that_says_how_to_cache_keeps_it(client):
    worker = await client.get("/sw.js")
    assert worker.headers.get_list("cache-control") == ["no-cache"]


async def test_the_csrf_cookie_is_set_once_with_its_flags(client, settings):
    first = await client.get("/signin")
    [set_cookie] = first.headers.get_list("set-cookie")
    value = first.cookies[settings.csrf_cookie]
    assert set_cookie == f"{settings.csrf_cookie}={value}; Path=/; HttpOnly; SameSite=Lax"
    assert len(value) == 43  # 256 random bits, base64url
    again = await client.get("/signin")
    assert "set-cookie" not in again.headers  # the browser keeps the one it has
    assert client.cookies[settings.csrf_cookie] == value


async def test_production_sends_hsts_and_secure_cookies(db, smtp):
    settings = production(db, smtp.url)
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="https://patchwork.example") as http:
        response = await http.get("/signin")
    assert response.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"
    value = response.cookies["__Host-pw_csrf"]
    assert response.headers["set-cookie"] == (
        f"__Host-pw_csrf={value}; Path=/; HttpOnly; SameSite=Lax; Secure"
    )


def test_cookie_headers_carry_max_age_when_given_even_zero(settings, db, smtp):
    assert cookie_header(settings, "a", "b") == "a=b; Path=/; HttpOnly; SameSite=Lax"
    assert cookie_header(settings, "a", "", 0) == "a=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
    assert cookie_header(production(db, smtp.url), "a", "b", 60) == (
        "a=b; Path=/; HttpOnly; SameSite=Lax; Max-Age=60; Secure"
    )


async def test_the_token_is_an_hmac_of_the_cookie_with_the_secret_key(client, settings):
    """Each page carries the HMAC masked by a fresh pad (pad, then pad XOR HMAC, in hex). The
    HMAC is of "csrf:" and the cookie, so no other keyed hash of the secret can be asked for
    by choosing a cookie."""
    token = await csrf_token(client)
    cookie = client.cookies[settings.csrf_cookie]
    message = f"csrf:{cookie}".encode()
    expected = hmac.new(settings.secret_key.encode(), message, hashlib.sha256).digest()
    raw = bytes.fromhex(token)
    assert len(raw) == 64
    assert bytes(a ^ b for a, b in zip(raw[:32], raw[32:], strict=True)) == expected
    assert await csrf_token(client) != token  # masked afresh for every page
    keyless = hmac.new(b"", message, hashlib.sha256).digest()
    bare = hmac.new(settings.secret_key.encode(), cookie.encode(), hashlib.sha256).digest()
    for forged in (
        masked(keyless.hex()),
        masked(bare.hex()),
        expected.hex(),
        token[:-2],
        token + "00",
        "zz" * 64,
        "",
    ):
        response = await client.post("/signin", data={"email": "a@b.example", "csrf_token": forged})
        assert response.status_code == 403, forged
    # The same HMAC under another pad is the same token.
    response = await client.post(
        "/signin", data={"email": "a@b.example", "csrf_token": masked(expected.hex())}
    )
    assert response.status_code == 200


async def test_a_same_origin_request_passes_and_each_foreign_sign_is_refused(client, settings):
    assert (await sign_in_form(client)).status_code == 200
    assert (await sign_in_form(client, Origin=settings.origin)).status_code == 200
    for site in ("same-origin", "none"):
        assert (await sign_in_form(client, **{"Sec-Fetch-Site": site})).status_code == 200
    for site in ("same-site", "cross-site"):
        assert (await sign_in_form(client, **{"Sec-Fetch-Site": site})).status_code == 403
    assert (await sign_in_form(client, Origin="null")).status_code == 403
    assert (await sign_in_form(client, Origin=settings.origin + ".evil.example")).status_code == 403


async def test_a_token_without_its_cookie_is_refused(client, settings):
    token = await csrf_token(client)
    client.cookies.clear()
    response = await client.post("/signin", data={"email": "a@b.example", "csrf_token": token})
    assert response.status_code == 403
    assert response.cookies.get(settings.csrf_cookie)  # a new cookie for the next attempt
    assert await AuditEvent.all().count() == 0


async def test_the_header_token_is_the_one_judged_when_sent(client):
    token = await csrf_token(client)
    both = await client.post(
        "/signin",
        data={"email": "a@b.example", "csrf_token": token},
        headers={"X-CSRF-Token": "forged"},
    )
    assert both.status_code == 403
    header_only = await client.post(
        "/signin", data={"email": "a@b.example"}, headers={"X-CSRF-Token": token}
    )
    assert header_only.status_code == 200


async def test_a_form_token_counts_in_a_urlencoded_or_multipart_form_only(client):
    token = await csrf_token(client)
    as_json = await client.post(
        "/signin",
        content=f'{{"email": "a@b.example", "csrf_token": "{token}"}}',
        headers={"Content-Type": "application/json"},
    )
    assert as_json.status_code == 403
    # A file upload without JavaScript carries the token as a field of its multipart form.
    multipart = await client.post(
        "/signin", data={"email": "a@b.example", "csrf_token": token}, files={"f": b"x"}
    )
    # (past CSRF, sign-in itself takes only a URL-encoded form)
    assert multipart.status_code == 415 and "This form was out of date" not in multipart.text
    for refused in (
        {"data": {"email": "a@b.example", "csrf_token": "00" * 64}, "files": {"f": b"x"}},
        {"data": {"email": "a@b.example"}, "files": {"csrf_token": token.encode()}},
        {
            "content": b"--nope\r\nbroken",
            "headers": {"Content-Type": "multipart/form-data; boundary=b"},
        },
    ):
        assert (await client.post("/signin", **refused)).status_code == 403, refused
    charset = await client.post(
        "/signin",
        content=f"email=a%40b.example&csrf_token={token}",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"},
    )
    assert charset.status_code == 200


async def test_a_post_with_no_content_type_and_no_token_is_refused(client):
    await csrf_token(client)
    response = await client.post("/signin", content=b"")
    assert response.status_code == 403
    assert "This form was out of date" in response.text


async def test_an_oversized_body_is_refused_as_too_large_before_the_csrf_check(client):
    await csrf_token(client)
    response = await client.post(
        "/signin", content=b"a" * (inputs.MAX_BODY_BYTES + 1), headers={"X-CSRF-Token": "x"}
    )
    assert response.status_code == 413


async def test_a_body_declared_too_large_is_refused_before_it_is_read(settings):
    sent: list[dict[str, Any]] = []

    async def app(scope, receive, send):
        raise AssertionError("the app was called")

    async def receive():
        raise AssertionError("the body was read")

    async def send(message):
        sent.append(message)

    length = str(inputs.MAX_BODY_BYTES + 1).encode()
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/signin",
        "query_string": b"",
        "headers": [(b"content-length", length), (b"host", b"testserver")],
        "scheme": "http",
        "server": ("testserver", 80),
        "app": create_app(settings),  # what the refusal page is rendered with
    }
    await SecurityMiddleware(app, settings, app)(scope, receive, send)
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 413


async def test_the_app_reads_the_body_the_check_read(client):
    token = await csrf_token(client)
    response = await client.post("/signin", data={"email": "not an address", "csrf_token": token})
    assert response.status_code == 422  # the form reached the route, whole
    assert "not an address" in response.text


@pytest.mark.parametrize("kind", ["lifespan", "websocket"])
async def test_other_scopes_pass_through_untouched(settings, kind):
    calls: list[tuple[Any, ...]] = []

    async def app(scope, receive, send):
        calls.append((scope, receive, send))

    async def refuse(scope, receive, send):
        raise AssertionError("refused")

    async def receive():
        return {"type": f"{kind}.connect"}

    async def send(message):
        raise AssertionError("sent")

    scope = {"type": kind, "method": "POST", "headers": []}
    await SecurityMiddleware(app, settings, refuse)(scope, receive, send)
    assert calls == [(scope, receive, send)]  # the very same, no headers, no CSRF check
    assert scope == {"type": kind, "method": "POST", "headers": []}
