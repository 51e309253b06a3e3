"""One template serves a full page and its htmx fragments (a named block)."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import segno
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2_fragments import render_block
from starlette.requests import Request
from starlette.responses import HTMLResponse

from web.core import clock, references
from web.core.cookies import csrf_token
from web.core.legal_bases import basis_label
from web.core.wording import wording

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"

env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    # Templates are read once per process: no file check on every render (restart to see an
    # edited template, as for code).
    auto_reload=False,
)


@cache
def static_digest(name: str) -> str:
    """The first 10 hex digits of a static file's SHA-256: its version."""
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:10]


def static_url(name: str) -> str:
    """A content-hashed URL, so browsers may cache static files for a year."""
    return f"/static/{name}?v={static_digest(name)}"


def wants_fragment(request: Request) -> bool:
    """An htmx request that is not restoring history gets just the block it asked for."""
    return (
        request.headers.get("hx-request") == "true"
        and "hx-history-restore-request" not in request.headers
    )


def context_for(request: Request, values: dict[str, Any]) -> dict[str, Any]:
    settings = request.app.state.settings
    practitioner = getattr(request.state, "practitioner", None)
    return {
        "request": request,
        "me": practitioner,
        # The badge beside "Notifications", read with the session (web/core/auth.py).
        "unread_count": unread_badge(request, practitioner),
        "csrf_token": csrf_token(request),
        "settings": settings,
        "today": clock.today(),
        **values,
    }


def unread_badge(request: Request, practitioner: Any) -> int:
    """The unread count the layout shows, or 0 for someone who turned in-app alerts off."""
    if practitioner is None or practitioner.notify_in_app == "off":
        return 0
    return int(getattr(request.state, "unread", 0))


def page_or_block(
    request: Request,
    template: str,
    values: dict[str, Any] | None = None,
    *,
    block: str = "content",
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render the whole page, or only `block` of it for an htmx request."""
    context = context_for(request, values or {})
    # A page whose block comes only from a parent template (the signup steps) is sent whole.
    if wants_fragment(request) and block in env.get_template(template).blocks:
        html = render_block(env, template, block, **context)
    else:
        html = env.get_template(template).render(context)
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    response.headers["Vary"] = "HX-Request"
    return response


def age_label(born: date | None, year: int | None, today: date) -> str:
    """ "3 years", "8 months" or "born 2019": what fits on a card."""
    if born is None:
        return f"born {year}" if year else "age unknown"
    months = (today.year - born.year) * 12 + today.month - born.month - (today.day < born.day)
    if months < 24:
        return f"{months} month{'s' if months != 1 else ''}"
    return f"{months // 12} years"


def when(moment: datetime | None, settings: Any) -> str:
    """ "24 Nov 2026, 5:12 pm" in the deployment's time zone."""
    if moment is None:
        return "never"
    local = moment.astimezone(ZoneInfo(settings.time_zone))
    noon = "am" if local.hour < 12 else "pm"
    return f"{local.day} {local:%b %Y}, {local.hour % 12 or 12}:{local:%M} {noon}"


def device(user_agent: str) -> str:
    """A recognisable name for a browser: "Chrome on Android", "Safari on iPhone"."""
    agent = user_agent or ""
    browser = next(
        (
            name
            for key, name in (
                ("Edg/", "Edge"),
                ("Firefox/", "Firefox"),
                ("Chrome/", "Chrome"),
                ("Safari/", "Safari"),
            )
            if key in agent
        ),
        "A browser",
    )
    system = next(
        (
            name
            for key, name in (
                ("iPhone", "iPhone"),
                ("iPad", "iPad"),
                ("Android", "Android"),
                ("Windows", "Windows"),
                ("Mac OS X", "Mac"),
                ("Linux", "Linux"),
            )
            if key in agent
        ),
        "an unknown device",
    )
    return f"{browser} on {system}"


def ago(day: date | None, today: date) -> str:
    """ "today", "yesterday", "3 days ago", "2 weeks ago", "5 months ago"."""
    if day is None:
        return "not recorded"
    days = (today - day).days
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days < 14:
        return f"{days} days ago"
    if days < 60:
        return f"{days // 7} weeks ago"
    if days < 730:
        return f"{days // 30} months ago"
    return f"{days // 365} years ago"


def month(moment: datetime, settings: Any) -> str:
    return moment.astimezone(ZoneInfo(settings.time_zone)).strftime("%B %Y")


def qr_svg(text: str, title: str) -> str:
    """`text` as a QR code, an inline SVG that scales with its box (a join code, a card)."""
    return str(
        segno.make(text, error="m").svg_inline(
            scale=6, border=2, dark="#000", light="#fff", title=title, omitsize=True
        )
    )


@pass_context
def join_url(context: Any, client: Any) -> str:
    """A "Join team" link for a client this page shows the viewer, with its reference."""
    return references.join_url(context["settings"].secret_key, context["me"].id, client.id)


env.globals["static_url"] = static_url
env.globals["basis_label"] = basis_label
env.globals["join_url"] = join_url
#: `wording(settings.deployment).lang` and the rest: the words that differ per deployment.
env.globals["wording"] = wording
env.filters["ago"] = ago
env.filters["month"] = month
env.filters["when"] = when
env.filters["device"] = device
env.filters["age"] = lambda client, today: age_label(client.birth_date, client.birth_year, today)
