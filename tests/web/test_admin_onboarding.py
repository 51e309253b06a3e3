"""Bulk onboarding (issue 14, point 4): a staff list is previewed row by row with every problem
flagged and nothing sent; sending invites exactly the good rows, over real SMTP, with one audit
event; a preview cannot be altered on the way, and nonsense gets a 4xx."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import httpx
import pytest

from models.areas import Area
from models.audit import AuditEvent
from models.invitations import Invitation
from models.notifications import Outbox
from models.organisations import Organisation
from tests import support
from tests.web.helpers import csrf_token, sign_in
from web.admin import onboarding
from web.alerts import worker
from web.core import clock

FORM = "/admin/practitioners/upload"


async def grace_and_organisations():
    brimbank = await support.organisation()
    await support.organisation(
        "Melton City Council — Youth Services", "melton.example", area_code="LGA24650"
    )
    await support.organisation(
        "Wyndham City Council — Youth Services", "wyndham.example", area_code="LGA27260"
    )
    await support.organisation(
        "Westside Recovery Service", "westsiderecovery.example", sensitive=True
    )
    # An organisation owning no domain: its staff come in on the inviter's word.
    await Organisation.create(
        name="Brimbank Family Centre", service_type="Family Services", area=await support.council()
    )
    grace = await support.local_admin("grace.okafor@brimbank.example", brimbank)
    await support.practitioner(org=brimbank)  # Priya, already on Patchwork
    await Invitation.create(
        email="wanda.waiting@brimbank.example",
        token_hash="w" * 64,
        invited_by=grace,
        expires_at=clock.now() + timedelta(days=3),
    )
    return grace


MCH = "Brimbank City Council — Maternal & Child Health"
STAFF = (
    "\ufeffOrganisation;Work email;Name;Job title\r\n"
    f'{MCH};nina.lam@brimbank.example;Nina Lam;"MCH Nurse; team ""B"""\r\n'
    "melton city council - youth services;Omar.Ali@Melton.example;Omar Ali;Youth Worker\r\n"
    "Brimbank Family Centre;fay@gmail.example;Fay Fong;Family Worker\r\n"
    f"{MCH};;No Email;Nurse\r\n"
    f"{MCH};not-an-email;Bad Email;Nurse\r\n"
    f"{MCH};anon@brimbank.example;;Nurse\r\n"
    f"{MCH};nina.lam@brimbank.example;Nina Again;Nurse\r\n"
    f"{MCH};priya.nair@brimbank.example;Priya Nair;Nurse\r\n"
    f"{MCH};wanda.waiting@brimbank.example;Wanda W;Nurse\r\n"
    "Nowhere Services;ned@nowhere.example;Ned No;Worker\r\n"
    "Wyndham City Council — Youth Services;will@wyndham.example;Will Wyn;Worker\r\n"
    f"{MCH};mo@melton.example;Mo Mismatch;Worker\r\n"
    "Westside Recovery Service;sid@gmail.example;Sid Sensitive;Clinician\r\n"
    ";olly@brimbank.example;Olly Org;Nurse\r\n"
)
GOOD = ["nina.lam@brimbank.example", "omar.ali@melton.example", "fay@gmail.example"]
EXPECTED = {
    5: "Work email missing",
    6: "Not an email address",
    7: "Name missing",
    8: "Same email as row 2",
    9: "Already on Patchwork",
    10: "An invitation to this address is already waiting",
    11: "No organisation called “Nowhere Services” in your areas",
    12: "No organisation called “Wyndham City Council — Youth Services” in your areas",
    13: "Their email address belongs to Melton City Council — Youth Services",
    14: "Westside Recovery Service is a sensitive service",
    15: "Organisation missing",
}


def preview_rows(page: httpx.Response) -> dict[int, str]:
    """Each row's number and what its check column says."""
    rows = re.findall(
        r'<td data-label="Row">(\d+)</td>.*?<td data-label="Check">(.*?)</td>', page.text, re.S
    )
    return {int(n): unescape(re.sub(r"<[^>]+>", " ", check)) for n, check in rows}


async def upload(client: httpx.AsyncClient, text: str) -> httpx.Response:
    token = await csrf_token(client, FORM)
    return await client.post(FORM, data={"csrf_token": token, "rows": text})


async def upload_file(client: httpx.AsyncClient, data: bytes) -> httpx.Response:
    token = await csrf_token(client, FORM)
    return await client.post(
        FORM, data={"csrf_token": token}, files={"file": ("staff.csv", data, "text/csv")}
    )


def payload_of(page: httpx.Response) -> str:
    found = re.search(r'name="payload" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


async def send(client: httpx.AsyncClient, payload: str) -> httpx.Response:
    token = await csrf_token(client, FORM)
    return await client.post(f"{FORM}/send", data={"csrf_token": token, "payload": payload})


async def test_the_preview_flags_every_kind_of_bad_row_and_sends_nothing(client):
    grace = await grace_and_organisations()
    await sign_in(client, grace)
    before = await support.snapshot()
    page = await upload(client, STAFF)
    assert page.status_code == 200, page.text
    checks = preview_rows(page)
    assert sorted(checks) == list(range(2, 16))
    for line in (2, 3, 4):
        assert checks[line].strip() == "Ready", (line, checks[line])
    for line, problem in EXPECTED.items():
        assert problem in checks[line], (line, checks[line])
    assert "14 rows" in page.text and "3 ready to invite" in page.text
    assert "Send 3 invitations" in page.text
    assert support.changed(before, await support.snapshot(), ledgers=()) == []


async def test_sending_invites_exactly_the_good_rows_by_email(settings, client, smtp):
    grace = await grace_and_organisations()
    await sign_in(client, grace)
    payload = payload_of(await upload(client, STAFF))
    sent = await send(client, payload)
    assert sent.status_code == 303
    assert sent.headers["location"] == f"{FORM}?sent=3&held=0&skipped=0"
    invited = await Invitation.filter(invited_by_id=grace.id, email__in=GOOD).order_by("id")
    assert [i.email for i in invited] == GOOD
    named = {i.email: i.organisation_id for i in invited}  # type: ignore[attr-defined]
    melton = await support.organisation("Melton City Council — Youth Services")
    assert named["omar.ali@melton.example"] == melton.id
    assert await Invitation.all().count() == 4  # Wanda's, and the three
    while await worker.deliver_due(settings):
        pass
    for address in GOOD:
        (message,) = await smtp.mailbox.wait_for(address)
        assert message["Subject"] == "You're invited to Patchwork"
        assert support.link_in(message).startswith("http://testserver/invitations/")
    assert {m["To"] for m in smtp.mailbox.messages} == set(GOOD)
    event = await AuditEvent.get(action="admin.changed")
    assert event.detail["what"] == "practitioners.invited" and event.detail["count"] == 3
    assert event.detail["invitation_ids"] == [i.id for i in invited]
    notice = await client.get(sent.headers["location"])
    assert "3 invitations are on their way" in notice.text
    # Sending the same preview again invites nobody twice; uploading it again offers nothing.
    again = await send(client, payload)
    assert again.headers["location"] == f"{FORM}?sent=0&held=0&skipped=3"
    assert await Invitation.all().count() == 4
    assert "0 ready to invite" in (await upload(client, STAFF)).text


async def test_a_row_no_longer_good_is_skipped_when_sending(client):
    grace = await grace_and_organisations()
    await sign_in(client, grace)
    payload = payload_of(await upload(client, STAFF))
    await support.practitioner("Nina Lam", "nina.lam@brimbank.example")
    sent = await send(client, payload)
    assert sent.headers["location"] == f"{FORM}?sent=2&held=0&skipped=1"
    assert not await Invitation.exists(email="nina.lam@brimbank.example")


async def test_a_tampered_or_foreign_preview_is_refused(client):
    grace = await grace_and_organisations()
    await sign_in(client, grace)
    payload = payload_of(await upload(client, STAFF))
    forged = onboarding.URLSafeTimedSerializer("not-our-secret", salt="admin.onboarding").dumps(
        {"by": grace.id, "rows": [["Eve", "eve@evil.example", "", 1]]}
    )
    morgan = await support.practitioner(
        "Morgan Reid", "morgan@brimbank.example", role="state_admin"
    )
    for bad in (payload[:-3] + "AAA", payload.replace(".", "!", 1), forged, "", "x" * 5000):
        refused = await send(client, bad)
        assert refused.status_code == 400 and "Upload the staff list again" in refused.text
    with clock.shifted(timedelta(minutes=61)):
        await sign_in(client, grace)
        assert (await send(client, payload)).status_code == 400
    await sign_in(client, morgan)  # another administrator's preview
    assert (await send(client, payload)).status_code == 400
    assert not await Outbox.exists()
    assert await Invitation.all().count() == 1
    assert not await AuditEvent.filter(action="admin.changed").exists()


async def test_uploading_asks_for_a_recent_sign_in(client):
    grace = await grace_and_organisations()
    await sign_in(client, grace)
    payload = payload_of(await upload(client, STAFF))
    token = await csrf_token(client, FORM)
    before = await support.snapshot()
    with clock.shifted(timedelta(minutes=16)):
        for path, data in ((FORM, {"rows": STAFF}), (f"{FORM}/send", {"payload": payload})):
            asked = await client.post(path, data={"csrf_token": token, **data})
            assert asked.status_code == 403 and "Please sign in again" in asked.text
            assert "/signin?next=%2Fadmin%2Fpractitioners%2Fupload" in asked.text
    assert support.changed(before, await support.snapshot(), ledgers=()) == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("   ", "paste its rows"),
        ("name,email\nNina,nina@brimbank.example\n", "no column for organisation"),
        ("name,work email,organisation\n", "nobody in it"),
        ("name,email,organisation\n" + "A,a@b.example,X\n" * 501, "at most 500"),
        ('name,email,organisation\n"unclosed,a@b.example,X\n', ""),
    ],
)
async def test_a_list_that_cannot_be_read_is_refused_with_the_reason(client, text, problem):
    grace = await grace_and_organisations()
    await sign_in(client, grace)
    page = await upload(client, text)
    if problem:
        assert page.status_code == 422 and problem in unescape(page.text)
        assert "There is a problem" in page.text
    else:
        assert page.status_code in (200, 422)


async def test_pasted_rows_from_a_spreadsheet_without_a_header(client):
    grace = await grace_and_organisations()
    await sign_in(client, grace)
    page = await upload(
        client,
        f"Nina Lam\tnina.lam@brimbank.example\tMCH Nurse\t{MCH}\n",
    )
    assert page.status_code == 200 and "There was no header row" in page.text
    assert preview_rows(page)[1].strip() == "Ready"


async def test_bulk_sends_have_their_own_hourly_allowance(client, monkeypatch):
    grace = await grace_and_organisations()
    monkeypatch.setattr(onboarding, "BULK_PER_HOUR", 2)
    await sign_in(client, grace)
    sent = await send(client, payload_of(await upload(client, STAFF)))
    assert sent.headers["location"] == f"{FORM}?sent=2&held=1&skipped=0"
    assert "1 row was held back" in (await client.get(sent.headers["location"])).text
    # The rest go later: those already invited are flagged, and only Fay is left to send.
    with clock.shifted(timedelta(minutes=61)):
        await sign_in(client, grace)
        page = await upload(client, STAFF)
        assert "1 ready to invite" in page.text
        assert (
            (await send(client, payload_of(page))).headers["location"].startswith(f"{FORM}?sent=1")
        )


async def test_a_csv_file_as_excel_saves_it_with_its_form_s_csrf_token(client):
    """A BOM, semicolons and Excel's quoting; the token in the multipart form (no JavaScript)."""
    grace = await grace_and_organisations()
    await sign_in(client, grace)
    utf8 = await upload_file(client, STAFF.encode("utf-8"))
    assert utf8.status_code == 200, utf8.text
    assert [n for n, check in preview_rows(utf8).items() if check.strip() == "Ready"] == [2, 3, 4]
    # Without its CSRF token, refused; and no other form takes a file.
    forged = await client.post(FORM, files={"file": ("staff.csv", STAFF.encode(), "text/csv")})
    assert forged.status_code == 403
    token = await csrf_token(client, FORM)
    elsewhere = await client.post(
        "/invitations", data={"csrf_token": token}, files={"file": ("a.csv", b"a", "text/csv")}
    )
    assert elsewhere.status_code == 415
    assert not await Outbox.exists() and not await Invitation.exists(email__in=GOOD)


async def test_a_file_that_is_not_a_csv_or_too_large_is_refused(client):
    grace = await grace_and_organisations()
    await sign_in(client, grace)
    assert (await upload_file(client, b"\x00\x01binary")).status_code in (400, 422)
    assert (await upload_file(client, b"x" * (400 * 1024))).status_code == 413
    big = await upload_file(client, b"name,email,organisation\n" + b"x" * (256 * 1024))
    assert big.status_code == 422 and "over 256 KB" in big.text


async def test_an_older_excel_file_in_windows_1252(client):
    grace = await grace_and_organisations()
    await sign_in(client, grace)
    old_excel = (
        f"name,work email,job title,organisation\r\nZoë Île,zoe@brimbank.example,Nurse,{MCH}\r\n"
    )
    cp1252 = await upload_file(client, old_excel.encode("cp1252"))
    assert cp1252.status_code == 200 and "Zoë Île" in cp1252.text
    assert preview_rows(cp1252)[2].strip() == "Ready"


async def test_an_unknown_organisation_suggests_one_of_yours(db):
    """A staff list saying just "Brimbank City Council" is pointed at the services by that
    name in one's areas; a typo at the closest; an organisation elsewhere at nothing."""
    from web.admin.onboarding_checks import check
    from web.admin.onboarding_csv import Row

    await support.organisation()  # Brimbank City Council — Maternal & Child Health
    await support.organisation(
        "Wyndham City Council — Youth Services", "wyndham.example", area_code="LGA27260"
    )
    district = await Area.get(code="AU-VIC-D03")
    councils = list(await Area.filter(parent_id=district.id).values_list("id", flat=True))
    rows = [
        Row(n, "Ned No", f"ned{n}@brimbank.example", "Nurse", typed)
        for n, typed in enumerate(
            ("Brimbank City Council", "Brimbank City Councl — Maternal & Child Health", "Wyndham")
        )
    ]
    await check(rows, councils)
    brimbank = "“Brimbank City Council — Maternal & Child Health”"
    assert rows[0].problems[-1].endswith(f". Did you mean {brimbank}?")
    assert rows[1].problems[-1].endswith(f". Did you mean {brimbank}?")
    assert rows[2].problems[-1] == "No organisation called “Wyndham” in your areas"
