"""The installable-app plumbing: manifest, service worker, offline page, static files, health."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from web.core import db
from web.core.auth import public
from web.core.budgets import PAGE, queries
from web.core.render import ROOT, STATIC, page_or_block, static_digest, static_url

SHELL_FILES = (
    "app.css",
    "app.js",
    "passkeys.js",
    "push.js",
    "combobox.js",
    "vendor/htmx-4.0.1.min.js",
    "icons/icon.svg",
)


class HashedStaticFiles(StaticFiles):
    """Static files; a URL carrying the file's true content hash (?v=, as `static_url` makes
    it) may be cached for a year. Any other version, or none, only for five minutes: a stale
    or made-up ?v= must not pin a file in browsers."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            asked = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("v", [""])
            versioned = asked == [static_digest(path)]
            response.headers["Cache-Control"] = (
                "public, max-age=31536000, immutable" if versioned else "public, max-age=300"
            )
        return response


@queries(PAGE)
@public
async def healthz(request: Request) -> Response:
    """200 when the database answers, 503 otherwise (for load balancers)."""
    try:
        await db.ping()
    except Exception:
        return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


@queries(PAGE)
@public
async def manifest(request: Request) -> Response:
    """The web app manifest, so Patchwork installs to a home screen."""
    body = {
        "name": "Patchwork",
        "short_name": "Patchwork",
        "description": "Who else is working with your client, and how to reach them.",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#f3f5f8",
        "theme_color": "#1d4e89",
        "icons": [
            {"src": static_url("icons/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
            {"src": static_url("icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static_url("icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": static_url("icons/maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }
    return Response(
        json.dumps(body),
        media_type="application/manifest+json",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@cache
def service_worker_source() -> str:
    shell = [static_url(name) for name in SHELL_FILES] + ["/offline"]
    version = hashlib.sha256("".join(shell).encode()).hexdigest()[:10]
    source = (ROOT / "service_worker" / "sw.js").read_text()
    return source.replace("__VERSION__", version).replace("__SHELL__", json.dumps(shell))


@queries(PAGE)
@public
async def service_worker(request: Request) -> Response:
    """The service worker, at the root so its scope is the whole site."""
    return Response(
        service_worker_source(),
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )


@queries(PAGE)
@public
async def offline(request: Request) -> Response:
    """The page the service worker shows when there is no connection."""
    return page_or_block(request, "pwa/offline.html", {})


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/manifest.webmanifest", manifest, methods=["GET"]),
    Route("/sw.js", service_worker, methods=["GET"]),
    Route("/offline", offline, methods=["GET"]),
    Mount("/static", app=HashedStaticFiles(directory=STATIC), name="static"),
]
