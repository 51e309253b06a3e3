"""Hostile input gets a clear 4xx page and changes nothing, on SQLite and PostgreSQL alike.

The property test draws one hostile value and where it goes (a form field, a query parameter,
the path ids, a JSON body, or an oversized or deeply nested body) and sends it, signed in as
a member of Mia's team and with a valid CSRF token, to every route in `app.routes` that could
read it, so a new route is covered without editing this file. Every answer is below 500. A
value no database here can store (NUL, a lone surrogate) is a 400, an oversized body a 413,
JSON nested too deeply a 400, a multipart body (a file upload) a 415. A 4xx leaves every table
as it was, except the two ledgers that record attempts by design: `audit_event` and
`rate_limit_hit` may gain rows, never change one (a refused join page is audited; a refused
search counts). An accepted request stores nothing PostgreSQL could not (no NUL, no lone
surrogate, no date outside 1900-2101), so the SQLite run proves the PostgreSQL rule too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote_from_bytes

import httpx
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from starlette.routing import Route

from models.auth import Session
from tests import support
from tests.conftest import empty_database
from tests.support import changed, snapshot
from tests.web.helpers import csrf_token, sign_in
from web.app import create_app
from web.core import clock, inputs
from web.core.inputs import MAX_BODY_BYTES

ROOT = Path(__file__).resolve().parents[2]
SURROGATE = re.compile("[\ud800-\udfff]")
HOSTILE = [
    "a\x00b",
    "²",
    "١٢",
    str(10**12),
    "-1",
    str(2**31),
    "x" * 10_000,
    "\ud800",
    "0001-01-01",
    "9999-12-31",
    "line\rbreak\r\nX-Injected: yes",
    "%00",
]
PLACES = ("form", "query", "path", "json")


def field_names() -> list[str]:
    """Every form, query and JSON field name the templates or the routes use."""
    names: set[str] = set()
    for page in (ROOT / "templates").rglob("*.html"):
        text = page.read_text()
        names |= set(re.findall(r'name="([a-z_]+)"', text))
        names |= set(re.findall(r'text_field\(\s*"([a-z_]+)"', text))
    for module in (ROOT / "web").rglob("*.py"):
        names |= set(re.findall(r'\.get(?:list)?\(\s*"([a-z_]+)"', module.read_text()))
    return sorted(names - {"csrf_token"})


FIELDS = field_names()


@dataclass(frozen=True, repr=False)
class Attack:
    value: str
    #: One of PLACES, or "oversized" / "deep" / "multipart" (the body itself is the attack).
    where: str
    #: The fields (form, query or JSON) that carry the value ...
    fields: tuple[str, ...] = ("q",)
    #: ... after their valid value ("Room 2" + value), so it passes checks that expect text.
    append: bool = False

    def __repr__(self) -> str:
        value = self.value if len(self.value) <= 40 else f"{self.value[:20]}…({len(self.value)})"
        return f"Attack({value!r}, {self.where!r}, {self.fields!r}, append={self.append})"

    @property
    def unstorable(self) -> bool:
        return "\x00" in self.value or SURROGATE.search(self.value) is not None

    def expected_status(self) -> int | None:
        if self.where == "oversized":
            return 413
        if self.where == "multipart":
            return 415
        if self.where == "deep" or self.unstorable:
            return 400
        return None


characters = st.one_of(
    st.characters(), st.characters(categories=["Cs"]), st.sampled_from("\x00²١٢\r\n")
)
values = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(characters, max_size=30),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.dates().map(date.isoformat),
)
attacks = st.builds(
    Attack,
    values,
    st.sampled_from(PLACES),
    st.lists(st.sampled_from(FIELDS), min_size=1, max_size=4, unique=True).map(tuple),
    st.booleans(),
)


@dataclass
class World:
    valid: dict[str, str]
    token: str


async def fresh_world(client: httpx.AsyncClient) -> World:
    """Mia's and Leo's teams with Priya on both, Priya signed in: rebuilt for each example."""
    await empty_database()
    priya, _aroha, _sam, _tom, _mia, leo = await support.thompson_siblings()
    await sign_in(client, priya)
    tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    valid = {name: "1" for name in FIELDS}
    valid |= {
        "q": "Mia Thompson",
        "born": "2023",
        "given_name": "Nova",
        "family_name": "Hill",
        "other_names": "",
        "birth": "unknown",
        "area_id": str((await support.council()).id),
        "sharing_basis": "consent",
        "role": "Maternal & Child Health Nurse",
        "working_with": "yes",
        "reason": "other",
        "date": tomorrow,
        "time": "10:00",
        "minutes": "60",
        "place": "Room 2",
        "agenda": "Plan",
        "text": "Please call me",
        "category": "information",
        "other": str(leo.id),
        "relationship": "sibling",
        "email": "new.colleague@brimbank.example",
        "name": "Priya Nair",
        "job_title": "Nurse",
        "phone": "03 5550 1234",
        "endpoint": "http://127.0.0.1:9/push/hostile",
    }
    return World(valid, await csrf_token(client, "/"))


def encode(value: str, safe: str = "") -> str:
    """Percent-encode, lone surrogates included (as the invalid UTF-8 a client could send)."""
    return quote_from_bytes(value.encode("utf-8", "surrogatepass"), safe=safe)


def targets(app: Any, where: str) -> list[tuple[str, str]]:
    """(method, path) of every route the attack applies to; those that end a session last."""
    found = []
    for route in app.routes:
        if not isinstance(route, Route):
            continue
        for method in sorted(route.methods - {"HEAD"}):
            unsafe = method not in ("GET", "HEAD")
            if (
                (where in ("form", "json", "oversized", "deep", "multipart") and unsafe)
                or (where == "query" and not unsafe)
                or (where == "path" and route.param_convertors)
            ):
                found.append((method, route.path))
    return sorted(found, key=lambda t: ("leave" in t[1] or "signout" in t[1], t))


def request_for(attack: Attack, world: World, method: str, path: str) -> dict[str, Any]:
    """The httpx arguments that put the attack where it says."""
    ids = encode(attack.value) if attack.where == "path" else "1"
    url = re.sub(r"\{[^}]+\}", lambda _m: ids, path)
    fields = dict(world.valid)
    if attack.where in ("form", "query", "json"):
        for name in attack.fields:
            fields[name] = (fields[name] if attack.append else "") + attack.value
    headers = {"X-CSRF-Token": world.token}
    if attack.where == "query":
        url += "?" + "&".join(f"{k}={encode(v)}" for k, v in fields.items())
    if method == "GET":
        return {"method": method, "url": url, "headers": headers}
    if attack.where == "multipart":  # a file where a route expects text
        upload = {"text": ("f.txt", b"Please call me", "text/plain")}
        data = {k: v for k, v in fields.items() if k != "text"}
        return {"method": method, "url": url, "headers": headers, "data": data, "files": upload}
    if attack.where == "oversized":
        body = b"q=" + b"x" * MAX_BODY_BYTES
    elif attack.where == "deep":
        body = b"[" * 1000 + b"]" * 1000
    elif attack.where == "json":
        # A push subscription's keys are nested: the attack reaches them there too.
        keys = {"p256dh": "AAAA", "auth": "AAAA"}
        for name in set(attack.fields) & set(keys):
            keys[name] = (keys[name] if attack.append else "") + attack.value
        body = json.dumps({**fields, "keys": keys}).encode()
        headers["Content-Type"] = "application/json"
    else:
        fields["csrf_token"] = world.token
        body = "&".join(f"{k}={encode(v)}" for k, v in fields.items()).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    return {"method": method, "url": url, "headers": headers, "content": body}


def unstorable(tables: dict[str, list[Any]]) -> list[tuple[str, Any]]:
    """Stored values PostgreSQL would refuse or that later date arithmetic would overflow."""
    found = []
    for table, rows in tables.items():
        for row in rows:
            for _column, value in row:
                if isinstance(value, str) and ("\x00" in value or SURROGATE.search(value)):
                    found.append((table, value))
                elif isinstance(value, date | datetime) and not 1900 <= value.year <= 2101:
                    found.append((table, value))
    return found


@hypothesis_settings(
    max_examples=4,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(attack=attacks)
@example(attack=Attack("\x00", "form", ("text", "place", "given_name"), append=True))
@example(attack=Attack("\ud800", "query", ("q", "tour")))
@example(attack=Attack("a\x00b", "path"))
@example(attack=Attack("\x00", "json", ("endpoint", "name"), append=True))
@example(attack=Attack(str(2**31), "path"))
@example(attack=Attack(str(10**12), "form", ("other", "area_id")))
@example(attack=Attack("²", "form", ("minutes", "areas")))
@example(attack=Attack("١٢", "query", ("tour", "born")))
@example(attack=Attack("x" * 10_000, "form", ("given_name", "role", "text", "place", "name")))
@example(attack=Attack("x" * 300, "form", ("email",), append=True))
@example(attack=Attack("A" * 101, "json", ("auth",), append=True))
@example(attack=Attack("9999-12-31", "form", ("date", "born")))
@example(attack=Attack("0001-01-01", "query", ("born",)))
@example(attack=Attack("", "oversized"))
@example(attack=Attack("", "deep"))
@example(attack=Attack("", "multipart"))
async def test_hostile_input_is_refused_changing_nothing_and_never_fails(
    attack: Attack, client: httpx.AsyncClient, settings: Any
) -> None:
    app = create_app(settings)
    world = await fresh_world(client)
    reference, before = await snapshot(reference=True), await snapshot()
    for method, path in targets(app, attack.where):
        response = await client.request(**request_for(attack, world, method, path))
        status = response.status_code
        where = f"{method} {path} with {attack!r}: {status}"
        assert status < 500, where
        expected = attack.expected_status()
        if expected in (413, 415) and path in inputs.UPLOADS:
            # The one upload form takes a file up to MAX_UPLOAD_BYTES, for administrators:
            # Priya is refused (test_admin_onboarding.py sends it too much).
            expected = None
        if expected is not None:
            assert status == expected, where
        after = await snapshot()
        if 400 <= status < 500:
            assert not changed(before, after), where
        else:
            assert not unstorable(after), where
        if not await Session.exists():  # the route signed Priya out: sign her in again
            world = await fresh_world(client)
            after = await snapshot()
        before = after
    assert await snapshot(reference=True) == reference
