"""The validation layer (web/core/inputs.py) one rule at a time: 413 for an oversized body before
the CSRF check, 400 for NUL or JSON nested too deeply, 415 for any multipart body, path ids
bounded to PostgreSQL's integer, ASCII-only form numbers and dates, and RFC 5545 escaping in
calendar files; and the checks each route makes of what it stores (an email address, a push
subscription, a passkey's transports) answer 4xx, never 500."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from starlette.routing import Route

from models.attentions import Attention
from models.auth import PasskeyCredential
from models.notifications import PushSubscription
from tests import support
from tests.soft_authenticator import SoftPasskey
from tests.support import changed, snapshot
from tests.web.helpers import csrf_token, sign_in
from web.app import create_app
from web.core import inputs
from web.core.forms import MAX_ID, form_date, form_int
from web.core.inputs import MAX_BODY_BYTES, MAX_JSON_DEPTH, IdConvertor


async def test_an_oversized_body_is_413_with_its_own_message_read_no_further(client):
    token = await csrf_token(client)
    sent: list[bytes] = []

    async def body() -> Any:  # chunked, no Content-Length: 1 MB, 1 KB at a time
        for chunk in [f"csrf_token={token}&q=".encode()] + [b"x" * 1024] * 1024:
            sent.append(chunk)
            yield chunk

    response = await client.post(
        "/signin", content=body(), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 413
    assert "too large to send" in response.text and "out of date" not in response.text
    assert response.headers["Content-Security-Policy"]  # still inside the security headers
    assert sum(map(len, sent)) <= MAX_BODY_BYTES + 2048


async def test_a_declared_length_over_the_limit_is_refused_before_reading(client):
    sent: list[bytes] = []

    async def body() -> Any:
        sent.append(b"q=x")
        yield b"q=x"

    response = await client.post(
        "/signin", content=body(), headers={"Content-Length": str(MAX_BODY_BYTES + 1)}
    )
    assert response.status_code == 413 and sent == []


async def test_nul_in_a_form_or_a_header_is_a_400_page_saying_why(client, db):
    token = await csrf_token(client)
    response = await client.post("/signin", data={"csrf_token": token, "email": "a\x00@b.example"})
    assert response.status_code == 400
    assert "characters Patchwork cannot store" in response.text
    assert (await client.get("/signin", headers={"User-Agent": "a\x00b"})).status_code == 400


async def test_json_nested_too_deeply_is_refused_before_parsing(client):
    token = await csrf_token(client)
    deep = b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1)
    response = await client.post(
        "/passkeys/authenticate", content=deep, headers={"X-CSRF-Token": token}
    )
    assert response.status_code == 400
    assert "nested" in response.text


def test_every_int_path_id_is_bounded_to_the_database_integer(settings):
    convertors = [
        convertor
        for route in create_app(settings).routes
        if isinstance(route, Route)
        for convertor in route.param_convertors.values()
        if convertor.regex == "[0-9]+"
    ]
    assert convertors and all(isinstance(c, IdConvertor) for c in convertors)
    assert IdConvertor().convert(str(MAX_ID)) == MAX_ID
    assert IdConvertor().convert(str(MAX_ID + 1)) == 0
    assert IdConvertor().convert("9" * 5000) == 0


def test_form_numbers_and_dates_accept_only_ascii_within_bounds():
    assert form_int(" 42 ", low=1, high=99) == 42
    assert [form_int(v, low=0, high=99) for v in ("²", "١٢", "-1", "100", "", None)] == [None] * 6
    assert form_int("9" * 5000, low=0, high=MAX_ID) is None
    assert form_date("2026-02-03") == date(2026, 2, 3)
    assert [form_date(v) for v in ("9999-12-31", "0001-01-01", "2026-02-30", "٢٠٢٦-٠٢-٠٣")] == [
        None
    ] * 4


def test_calendar_text_is_escaped_per_rfc_5545():
    from web.teams.meetings import ics_text, invitation

    assert ics_text("a\\b;c,d") == "a\\\\b\\;c\\,d"
    for breaking in ("\r\n", "\r", "\n", "\u2028", "\x85", "\v"):
        assert ics_text(f"Room 1{breaking}ATTENDEE:mailto:evil@example") == (
            "Room 1\\nATTENDEE:mailto:evil@example"
        )
    assert ics_text("tab\tkept, bell\x07 and escape\x1b dropped") == (
        "tab\tkept\\, bell and escape dropped"
    )
    ics = invitation(
        uid="u@test",
        start=datetime(2030, 1, 2, 3, 4, tzinfo=UTC),
        minutes=60,
        place="Room\r2\rBEGIN:VALARM",
        agenda="x" * 200 + "\nEND:VEVENT",
        organiser="o@test.example",
        attendees=[],
        team_url="https://patchwork.example/clients/1",
    )
    lines = ics.split("\r\n")
    assert "\r" not in ics.replace("\r\n", "") and "\n" not in ics.replace("\r\n", "")
    assert not [line for line in lines if line.startswith(("BEGIN:VALARM", "END:VEVENT\\"))]
    assert sum(line == "END:VEVENT" for line in lines) == 1
    assert all(len(line.encode()) <= 75 for line in lines)


# -- no file uploads ---------------------------------------------------------------------------


async def test_a_file_upload_is_refused_with_415_and_stores_nothing(client):
    """A multipart body would hand a route an UploadFile where it expects text: Patchwork has
    no uploads, so the guard refuses every multipart body, whatever its subtype or case."""
    priya, _aroha, _sam, mia = await support.thompson_team()
    await sign_in(client, priya)
    token = await csrf_token(client, f"/clients/{mia.id}/attentions")
    path = f"/clients/{mia.id}/attentions"
    uploaded = await client.post(
        path,
        data={"category": "information"},
        files={"text": ("f.txt", b"Please call me", "text/plain")},
        headers={"X-CSRF-Token": token},
    )
    assert uploaded.status_code == 415
    assert "Patchwork does not accept file uploads" in uploaded.text
    assert uploaded.headers["Content-Security-Policy"]  # inside the security headers
    for content_type in ("Multipart/Form-Data; boundary=x", "multipart/mixed; boundary=x"):
        body = b'--x\r\nContent-Disposition: form-data; name="text"\r\n\r\nHi\r\n--x--\r\n'
        answer = await client.post(
            path, content=body, headers={"X-CSRF-Token": token, "Content-Type": content_type}
        )
        assert answer.status_code == 415, content_type
    assert not await Attention.exists()


async def test_every_unsafe_route_refuses_a_multipart_body(client, settings):
    priya, _aroha, _sam, mia = await support.thompson_team()
    await sign_in(client, priya)
    token = await csrf_token(client, "/")
    before = await snapshot()
    for route in create_app(settings).routes:
        if not isinstance(route, Route):
            continue
        for method in sorted((route.methods or set()) - {"GET", "HEAD"}):
            path = re.sub(r"\{[^}]+\}", str(mia.id), route.path)
            answer = await client.request(
                method,
                path,
                data={"text": "x", "email": "new.person@brimbank.example"},
                files={"file": ("f.txt", b"hello", "text/plain")},
                headers={"X-CSRF-Token": token},
            )
            if route.path in inputs.UPLOADS:  # bulk onboarding's CSV, for administrators
                assert answer.status_code == 403, (method, route.path, answer.status_code)
                continue
            assert answer.status_code == 415, (method, route.path, answer.status_code)
            assert "does not accept file uploads" in answer.text, (method, route.path)
    assert not changed(before, await snapshot()), "a refused upload stored something"


# -- what routes store: 4xx for what does not fit, never a 500 ---------------------------------

TOO_LONG_EMAIL = "a" * 240 + "@brimbank.example"  # 257 characters: over RFC 5321's 254


async def test_an_email_address_too_long_to_store_is_refused_everywhere(client):
    priya, _aroha, _sam, mia = await support.thompson_team()
    await sign_in(client, priya)
    before = await snapshot()
    for path in (f"/clients/{mia.id}/invite", "/invitations", "/signup", "/signin"):
        answer = await client.post(
            path, data={"email": TOO_LONG_EMAIL, "csrf_token": await csrf_token(client, "/")}
        )
        assert answer.status_code == 422, (path, answer.status_code)
        assert "email address" in answer.text, path
    assert not changed(before, await snapshot())


@pytest.mark.parametrize(
    "body",
    [
        {"endpoint": "http://127.0.0.1/p", "keys": {"p256dh": "BAAA", "auth": "A" * 101}},
        {"endpoint": "http://127.0.0.1/p", "keys": {"p256dh": "B" * 201, "auth": "AAAA"}},
        {"endpoint": "http://127.0.0.1/" + "p" * 1000, "keys": {"p256dh": "BAAA", "auth": "AAAA"}},
        {"endpoint": "http://127.0.0.1/p", "keys": {"p256dh": "BAAA", "auth": 5}},
        {"endpoint": "http://127.0.0.1/p", "keys": {"p256dh": ["BAAA"], "auth": "AAAA"}},
        {"endpoint": ["http://127.0.0.1/p"], "keys": {"p256dh": "BAAA", "auth": "AAAA"}},
        {"endpoint": "http://127.0.0.1/p", "keys": ["BAAA", "AAAA"]},
        {"endpoint": "http://127.0.0.1/p", "keys": {"p256dh": "BAAA", "auth": "AA AA"}},
        ["http://127.0.0.1/p"],
    ],
    ids=lambda body: repr(body)[:60],
)
async def test_a_push_subscription_is_checked_field_by_field(client, body):
    """Every field of the browser's subscription has a type and a length the table fits."""
    await sign_in(client, await support.practitioner())
    headers = {"X-CSRF-Token": await csrf_token(client, "/profile")}
    answer = await client.post("/push/subscriptions", json=body, headers=headers)
    assert answer.status_code == 422, answer.text
    assert not await PushSubscription.exists()


async def test_a_push_subscription_at_every_limit_is_kept(client):
    await sign_in(client, await support.practitioner())
    headers = {"X-CSRF-Token": await csrf_token(client, "/profile")}
    endpoint = "http://127.0.0.1/" + "p" * (1000 - len("http://127.0.0.1/"))
    body = {"endpoint": endpoint, "keys": {"p256dh": "B" * 200, "auth": "A" * 100}}
    answer = await client.post("/push/subscriptions", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    assert await PushSubscription.filter(endpoint=endpoint, auth="A" * 100).exists()


async def test_a_passkeys_transports_are_a_list_of_known_strings(client):
    """A valid "none" attestation whose `transports` is not a list of strings is refused
    (400) and stores nothing; known transports are kept, unknown ones (a newer browser's)
    are dropped, as WebAuthn asks."""
    priya = await support.practitioner()
    await sign_in(client, priya)
    headers = {"X-CSRF-Token": await csrf_token(client, "/profile")}

    async def register(transports: object) -> tuple[Any, list[str]]:
        passkey = SoftPasskey(rp_id="testserver", origin="http://testserver")
        options = (await client.post("/passkeys/register/options", headers=headers)).json()
        credential = passkey.create(options)
        credential["response"]["transports"] = transports
        before = await snapshot()
        answer = await client.post(
            "/passkeys/register", json={"credential": credential}, headers=headers
        )
        return answer, changed(before, await snapshot())

    for hostile in (5, True, "usb", ["usb", 5], {"usb": True}, [["usb"]]):
        answer, stored = await register(hostile)
        assert answer.status_code == 400, (hostile, answer.text)
        assert not stored, hostile  # not even the challenge is spent
    assert not await PasskeyCredential.exists()

    listed = ["usb", "internal", "warp-drive", "x" * 1000, "usb"]
    assert (await register(listed))[0].status_code == 200
    assert (await register(None))[0].status_code == 200  # browsers may leave it out
    kept = await PasskeyCredential.filter(practitioner=priya).order_by("id")
    assert [p.transports for p in kept] == [["usb", "internal"], []]
