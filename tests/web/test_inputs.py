"""The validation layer (web/inputs.py) one rule at a time: 413 for an oversized body before
the CSRF check, 400 for NUL or JSON nested too deeply, path ids bounded to PostgreSQL's
integer, ASCII-only form numbers and dates, and RFC 5545 escaping in calendar files."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from starlette.routing import Route

from tests.web.helpers import csrf_token
from web.app import create_app
from web.inputs import MAX_BODY_BYTES, MAX_ID, MAX_JSON_DEPTH, IdConvertor, form_date, form_int


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
    from web.meetings import ics_text, invitation

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
