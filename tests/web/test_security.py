"""Headers, CSRF, caching and error pages on every kind of response."""

from __future__ import annotations

import re

import httpx
from starlette.routing import Route

from tests import support
from tests.web.helpers import csrf_token, sign_in
from web.app import create_app
from web.core.settings import load


def assert_security_headers(response: httpx.Response) -> None:
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    for directive in ("frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"):
        assert directive in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["cross-origin-opener-policy"] == "same-origin"


async def test_every_kind_of_response_carries_the_security_headers(client):
    for path, status in (("/signin", 200), ("/nowhere", 404), ("/healthz", 200), ("/", 303)):
        response = await client.get(path)
        assert response.status_code == status
        assert_security_headers(response)
    assert "strict-transport-security" not in response.headers  # development: plain HTTP


async def test_production_adds_hsts_and_host_prefixed_secure_cookies(db, smtp):
    settings = load(
        {
            "ENVIRONMENT": "production",
            "DATABASE_URL": db,
            "BASE_URL": "https://patchwork.example",
            "SECRET_KEY": "x" * 40,
            "SMTP_URL": smtp.url,
            "VAPID_PUBLIC_KEY": "pub",
            "VAPID_PRIVATE_KEY": "priv",
        }
    )
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="https://patchwork.example") as http:
        response = await http.get("/signin")
    assert response.headers["strict-transport-security"].startswith("max-age=")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-pw_csrf=") and "Secure" in cookie and "HttpOnly" in cookie


async def test_a_server_error_is_a_page_with_headers_and_no_details(settings):
    app = create_app(settings)

    async def boom(request):
        raise RuntimeError("secret internals")

    app.router.routes.append(Route("/boom", boom))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.get("/boom")
        fragment = await http.get("/boom", headers={"HX-Request": "true"})
    assert response.status_code == 500
    assert "Sorry, something went wrong" in response.text and "secret" not in response.text
    assert "<html" in response.text
    assert_security_headers(response)
    assert fragment.status_code == 500 and "<html" not in fragment.text
    assert "Sorry, something went wrong" in fragment.text


async def test_error_pages_are_fragments_for_htmx_and_pages_otherwise(client):
    page = await client.get("/nowhere")
    fragment = await client.get("/nowhere", headers={"HX-Request": "true"})
    restore = await client.get(
        "/nowhere", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert page.status_code == fragment.status_code == 404
    assert "<html" in page.text and "<html" not in fragment.text and "<html" in restore.text
    assert "Page not found" in fragment.text
    assert page.headers["vary"].split(", ")[0] == "HX-Request"


async def test_post_without_csrf_token_is_refused_and_changes_nothing(client):
    await client.get("/signin")  # has the CSRF cookie, but sends no token
    response = await client.post("/signin", data={"email": "priya.nair@brimbank.example"})
    assert response.status_code == 403
    assert "This form was out of date" in response.text
    from models.audit import AuditEvent

    assert await AuditEvent.all().count() == 0


async def test_post_with_a_token_for_another_cookie_is_refused(client, settings):
    token = await csrf_token(client)
    client.cookies.set(settings.csrf_cookie, "another-cookie-value")
    response = await client.post("/signin", data={"email": "a@b.example", "csrf_token": token})
    assert response.status_code == 403


async def test_post_from_another_origin_is_refused_even_with_a_token(client):
    token = await csrf_token(client)
    response = await client.post(
        "/signin",
        data={"email": "a@b.example", "csrf_token": token},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    cross_site = await client.post(
        "/signin",
        data={"email": "a@b.example", "csrf_token": token},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert cross_site.status_code == 403


async def test_the_csrf_header_works_for_htmx_requests(client):
    token = await csrf_token(client)
    response = await client.post(
        "/signin",
        data={"email": "a@b.example"},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "Check your email" in response.text and "<html" not in response.text


async def test_signed_in_pages_are_never_stored(client):
    priya = await support.practitioner()
    await sign_in(client, priya)
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"


async def test_static_files_are_cacheable_and_the_service_worker_is_revalidated(client):
    html = (await client.get("/signin")).text
    import re

    css = re.search(r'href="(/static/app\.css\?v=[0-9a-f]+)"', html).group(1)
    static = await client.get(css)
    assert static.status_code == 200
    assert static.headers["cache-control"] == "public, max-age=31536000, immutable"
    # Only the file's true hash makes it immutable: a wrong, stale or missing one does not.
    for other in ("/static/app.css?v=0000000000", "/static/app.css", css + "&v=0000000000"):
        answer = await client.get(other)
        assert answer.headers["cache-control"] == "public, max-age=300", other
    worker = await client.get("/sw.js")
    assert worker.headers["cache-control"] == "no-cache"
    assert css in worker.text  # the shell it caches is the hashed assets
    manifest = await client.get("/manifest.webmanifest")
    assert manifest.json()["start_url"] == "/"


async def test_the_app_installs_with_png_maskable_and_apple_touch_icons(client):
    """Issue 17: what an installing browser asks for: PNG 192 and 512, a maskable icon, and the
    apple-touch-icon iOS puts on the home screen; each served as the PNG its entry says."""
    import struct

    icons = (await client.get("/manifest.webmanifest")).json()["icons"]
    sizes = {(icon["sizes"], icon.get("purpose", "any"), icon["type"]) for icon in icons}
    assert {("192x192", "any", "image/png"), ("512x512", "any", "image/png")} <= sizes
    assert ("512x512", "maskable", "image/png") in sizes
    page = (await client.get("/signin")).text
    touch = re.search(r'<link rel="apple-touch-icon" href="([^"]+)">', page)
    assert touch
    for src, size in [(i["src"], i["sizes"]) for i in icons if i["type"] == "image/png"] + [
        (touch.group(1).replace("&amp;", "&"), "180x180")
    ]:
        image = await client.get(src)
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"
        width, height = struct.unpack(">II", image.content[16:24])  # the PNG's IHDR
        assert f"{width}x{height}" == size, src


async def test_responses_are_compressed_when_the_browser_asks(client):
    """HTML, CSS, JS, SVG and JSON of 500 bytes or more travel gzipped to a browser that asks,
    with their security headers; smaller bodies, and browsers that do not ask, get them plain."""
    html = (await client.get("/signin")).text
    import re

    from web.app import COMPRESS_FROM

    assets = re.findall(r'(?:href|src)="(/static/[^"]+\?v=[0-9a-f]+)"', html)
    assert any(".js?" in a for a in assets) and any(".css?" in a for a in assets)
    compressed = 0
    for path in ["/signin", "/manifest.webmanifest", "/healthz", *assets]:
        plain = await client.get(path, headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers, path
        zipped = await client.get(path, headers={"Accept-Encoding": "gzip"})
        assert zipped.status_code == 200 and zipped.headers["content-security-policy"], path
        png = path.split("?")[0].endswith(".png")  # compressed already: sent as it is
        big = len(plain.content) >= COMPRESS_FROM and not png
        assert (zipped.headers.get("content-encoding") == "gzip") == big, path
        if big:
            assert "Accept-Encoding" in zipped.headers["vary"], path
            assert int(zipped.headers["content-length"]) < len(plain.content), path
            compressed += 1
    assert compressed >= 3  # the page, the stylesheet, htmx
