"""The audit log (issue 14, point 6): a local administrator sees the events of their councils
and of the people based there, a state administrator every event, a practitioner none; each
filter narrows it; pages follow one another by (at, id) without OFFSET; the CSV holds exactly
the filtered events as the table shows them; a client's page answers who viewed or searched
for them by id, never by name; and looking at the log is audited."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

from models.areas import Area
from models.audit import AuditEvent
from tests import support
from tests.web.helpers import sign_in
from web.admin import audit_log
from web.admin.audit_log_events import LABELS

WEB = Path(__file__).resolve().parents[2] / "web"
#: 1 Dec 2026, 00:30 in Melbourne (AEDT, UTC+11), 30 Nov in UTC.
MOMENT = datetime(2026, 11, 30, 13, 30, tzinfo=UTC)


class Table(HTMLParser):
    """The text of each body cell of the page's table of `kind`, row by row."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None
        self.in_body = self.in_table = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "table":
            self.in_table = self.kind in (dict(attrs).get("class") or "").split()
        elif tag == "tbody" and self.in_table:
            self.in_body = True
        elif tag == "tr" and self.in_body:
            self.rows.append([])
        elif tag == "td" and self.in_body:
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tbody":
            self.in_body = False

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def table(html: str, kind: str = "audit-table") -> list[list[str]]:
    """The events table's rows (or, with kind="audit-people", the client's people)."""
    parser = Table(kind)
    parser.feed(html)
    return parser.rows


async def exported(client, query: str = "") -> list[list[str]]:
    response = await client.get(f"/admin/audit.csv?{query}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(response.text)))
    assert lines[0] == audit_log.COLUMNS
    return lines[1:]


def marks(lines: list[list[str]], column: int = 6) -> list[str]:
    """The marks (`tab` in each event's detail) of the CSV's events, in order: the others
    are the administrator's own sign-in."""
    return [m.group(1) for line in lines if (m := re.search(r"Page: (m\d+)", line[column]))]


def shown(html: str) -> list[str]:
    """The marks of the events in the page's table."""
    return marks(table(html), column=5)


async def world():
    """Grace looks after Brimbank Melton; Priya works in Brimbank, Tom in Wyndham."""
    brimbank, melton, wyndham = [
        await support.council(code) for code in ("LGA21180", "LGA24650", "LGA27260")
    ]
    wyndham_org = await support.organisation(
        "Wyndham City Council — Youth Services", "wyndham.example", area_code="LGA27260"
    )
    people = {
        "priya": await support.practitioner(),
        "tom": await support.practitioner("Tom Walsh", "tom.walsh@wyndham.example", wyndham_org),
        "grace": await support.local_admin("grace.okafor@brimbank.example"),
        "morgan": await support.practitioner(
            "Morgan Reid", "morgan.reid@wyndham.example", wyndham_org, role="state_admin"
        ),
    }
    priya, tom = people["priya"], people["tom"]
    made = [
        # mark, who, action, client, area, minutes before MOMENT
        ("m1", priya, "team.viewed", 11, brimbank, 0),
        ("m2", tom, "team.viewed", 12, wyndham, 1),  # Wyndham's, by Wyndham's: not Grace's
        ("m3", tom, "team.viewed", 13, melton, 2),  # a Melton client: Grace's
        ("m4", priya, "signin.succeeded", None, None, 3),  # no area: Priya is Brimbank's
        ("m5", tom, "signin.succeeded", None, None, 4),
        ("m6", None, "job.retention", None, None, 5),  # Patchwork's own: the state's
        ("m7", priya, "team.viewed", 12, wyndham, 60 * 24),  # by Brimbank's staff: Grace's
        ("m8", priya, "team.joined", 11, brimbank, 60 * 24 * 2),
    ]
    for mark, actor, action, client_id, area, minutes in made:
        await AuditEvent.create(
            at=MOMENT - timedelta(minutes=minutes),
            actor_id=actor.id if actor else None,
            action=action,
            client_id=client_id,
            area_id=area.id if area else None,
            detail={"tab": mark},
        )
    return people, {"brimbank": brimbank, "melton": melton, "wyndham": wyndham}


async def test_a_local_administrator_sees_their_councils_and_their_peoples_events(client):
    people, _areas = await world()
    await sign_in(client, people["grace"])
    assert marks(await exported(client)) == ["m1", "m3", "m4", "m7", "m8"]
    page = await client.get("/admin/audit")
    assert page.status_code == 200
    assert shown(page.text) == ["m1", "m3", "m4", "m7", "m8"]
    assert "Tom Walsh" in page.text and "Viewed the client&#39;s team" in page.text


async def test_a_state_administrator_sees_every_event_and_a_practitioner_none(client):
    people, _areas = await world()
    await sign_in(client, people["morgan"])
    lines = await exported(client)
    assert marks(lines) == ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8"]
    assert [line[1] for line in lines if "m6" in line[6]] == ["Patchwork"]
    await sign_in(client, people["priya"])
    for path in ("/admin/audit", "/admin/audit.csv", "/admin/audit?client=11"):
        refused = await client.get(path)
        assert refused.status_code == 403 and "m1" not in refused.text


async def test_each_filter_narrows_the_events(client):
    people, areas = await world()
    await sign_in(client, people["grace"])
    district = (await Area.get(code="AU-VIC-D03")).id
    asked = {
        "practitioner=tom": ["m3"],
        "practitioner=PRIYA.NAIR%40brimbank": ["m1", "m4", "m7", "m8"],
        "practitioner=nobody": [],
        "client=11": ["m1", "m8"],
        "action=signin.succeeded": ["m4"],
        f"area={areas['melton'].id}": ["m3"],
        f"area={areas['brimbank'].id}": ["m1", "m4", "m7", "m8"],  # its clients and its people
        f"area={district}": ["m1", "m3", "m4", "m7", "m8"],
        "from=2026-12-01": ["m1", "m3", "m4"],  # local days: 00:30 on 1 December
        "to=2026-11-30": ["m7", "m8"],
        "from=2026-11-29&to=2026-11-30": ["m7", "m8"],
        "from=2026-11-29&to=2026-11-29": ["m8"],
        "practitioner=priya&client=12&from=2026-11-30": ["m7"],
    }
    for query, wanted in asked.items():
        assert marks(await exported(client, query)) == wanted, query
        page = await client.get(f"/admin/audit?{query}")
        assert shown(page.text) == wanted, query


async def test_bad_filters_and_cursors_are_refused_never_failing(client):
    people, areas = await world()
    await sign_in(client, people["grace"])
    unprocessable = {
        "client=99999999999999999999": "Enter a client id",
        "client=2147483648": "Enter a client id",
        "client=-1": "Enter a client id",
        "client=%C2%B2": "Enter a client id",
        "action=team.deleted": "Choose an event type",
        f"area={areas['wyndham'].id}": "Choose an area",  # outside Grace's areas
        "area=99999999999999999999": "Choose an area",
        "from=2026-13-01": "Enter a date",
        "to=99999-01-01": "Enter a date",
        "from=2026-12-02&to=2026-12-01": "on or after the start date",
    }
    for query, message in unprocessable.items():
        for path in ("/admin/audit", "/admin/audit.csv"):
            response = await client.get(f"{path}?{query}")
            assert response.status_code == 422, (path, query)
            assert "There is a problem" in response.text and message in response.text
    for cursor in ("nonsense", "0-0", "f" * 15 + "-" + "f" * 16, "1-1", "x" * 5000, "-1"):
        response = await client.get(f"/admin/audit?after={cursor}")
        assert response.status_code == 400, cursor
        assert "That page of the audit log does not exist" in response.text
    htmx = await client.get("/admin/audit?client=abc", headers={"HX-Request": "true"})
    assert htmx.status_code == 422 and "<html" not in htmx.text and "Enter a client id" in htmx.text


async def test_pages_follow_one_another_by_time_and_id_without_offset(client):
    people, _areas = await world()
    priya = people["priya"]
    # 120 more events, the first 70 sharing one instant: the cursor must carry the id too.
    for n in range(120):
        await AuditEvent.create(
            at=MOMENT + timedelta(hours=1, seconds=0 if n < 70 else n),
            actor_id=priya.id,
            action="team.viewed",
            client_id=11,
            area_id=(await support.council()).id,
            detail={"tab": f"m{100 + n}"},
        )
    await sign_in(client, people["grace"])
    everything = marks(await exported(client))
    assert len(everything) == 125 and len(set(everything)) == 125
    assert len(await exported(client)) == 126  # and Grace's sign-in
    seen, url, counts = [], "/admin/audit", []
    while url:
        with support.count_queries() as queries:
            page = await client.get(url)
        assert page.status_code == 200
        assert not any("OFFSET" in q.upper() for q in queries.queries)
        counts.append(len(queries.queries))
        seen += shown(page.text)
        found = re.search(r'href="(/admin/audit\?after=[^"]+)"', page.text)
        url = found.group(1).replace("&amp;", "&") if found else ""
    assert seen == everything
    fragment = await client.get("/admin/audit?client=11", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["vary"]
    assert "<html" not in fragment.text and 'id="client"' in fragment.text
    assert len(table(fragment.text)) == 50 and "Older events" in fragment.text
    assert len(counts) == 3 and counts[0] == counts[1]  # two full pages: the same queries
    assert counts[2] <= counts[1]


async def test_the_query_count_does_not_grow_with_the_page(client):
    people, _areas = await world()
    await sign_in(client, people["grace"])
    with support.count_queries() as few:
        await client.get("/admin/audit?client=11")
    for n in range(60):
        await AuditEvent.create(
            at=MOMENT - timedelta(seconds=n + 1),
            actor_id=(people["priya"], people["tom"])[n % 2].id,
            action="team.viewed",
            client_id=11,
            area_id=(await support.council()).id,
        )
    with support.count_queries() as many:
        page = await client.get("/admin/audit?client=11")
    assert len(table(page.text)) == 50
    assert len(many.queries) == len(few.queries)


async def test_the_csv_matches_the_table_and_covers_every_page(client, monkeypatch):
    people, _areas = await world()
    await sign_in(client, people["grace"])
    page = await client.get("/admin/audit")
    lines = await exported(client)
    as_table = [[w, f"{who} {email}".strip(), *rest] for w, who, email, *rest in lines]
    assert table(page.text) == as_table
    for n in range(80):
        await AuditEvent.create(
            at=MOMENT + timedelta(seconds=n),
            actor_id=people["priya"].id,
            action="signout",
        )
    assert len(await exported(client)) == 86  # with Grace's sign-in
    monkeypatch.setattr(audit_log, "CSV_CAP", 70)
    monkeypatch.setattr(audit_log, "CSV_BATCH", 30)
    capped = await exported(client)
    assert len(capped) == 70 and capped == (await exported(client))[:70]


async def test_the_csv_cannot_carry_a_formula_and_the_page_escapes_everything(client):
    people, areas = await world()
    org = await support.organisation()
    sneaky = await support.practitioner('=HYPERLINK("http://x")', "sneaky@brimbank.example", org)
    await AuditEvent.create(
        at=MOMENT + timedelta(minutes=5),
        actor_id=sneaky.id,
        action="signin.failed",
        detail={"reason": '<script>alert(1)</script>, "quoted"\nnext line'},
    )
    await sign_in(client, people["grace"])
    first = next(line for line in await exported(client) if line[2] == sneaky.email)
    assert first[1] == '\'=HYPERLINK("http://x")'
    assert first[6] == 'Reason: <script>alert(1)</script>, "quoted"\nnext line'
    page = await client.get("/admin/audit")
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;alert(1)" in page.text
    for start in "=+-@":
        assert audit_log.safe(f"{start}1") == f"'{start}1"
    assert audit_log.safe("Priya") == "Priya"


async def test_who_viewed_or_searched_for_a_client_by_id_never_by_name(client):
    priya, aroha, sam, mia = await support.thompson_team()
    grace = await support.local_admin("grace.okafor@brimbank.example")
    for someone in (priya, sam):  # Sam is discreet: the log still says he looked
        await sign_in(client, someone)
        assert (await client.get(f"/clients/{mia.id}")).status_code == 200
        assert (await client.get("/clients/search?q=mia+thom")).status_code == 200
    await sign_in(client, grace)
    page = await client.get(f"/admin/audit?client={mia.id}")
    assert page.status_code == 200
    assert f"Client {mia.id}: who viewed or searched for them" in page.text
    rows = table(page.text)
    assert [(row[1].split(" ")[0], row[2]) for row in rows] == [
        ("Sam", "Viewed the client's team"),
        ("Priya", "Viewed the client's team"),
    ]
    assert "a search on its own cannot be tied to a client id" in page.text
    first, last = rows[-1][0], rows[0][0]
    assert table(page.text, "audit-people") == [
        ["Sam Lee sam.lee@westsiderecovery.example", "1", last, last],
        ["Priya Nair priya.nair@brimbank.example", "1", first, first],
    ]
    assert "Mia" not in page.text and "Thompson" not in page.text and "Mimi" not in page.text
    searches = await client.get("/admin/audit?action=client.searched")
    assert len(table(searches.text)) >= 2 and "Words searched: not shown" in searches.text
    assert "thom" not in searches.text.lower()


async def test_looking_at_and_downloading_the_log_is_audited_but_not_listed_unasked(client):
    people, _areas = await world()
    await sign_in(client, people["grace"])
    await client.get("/admin/audit?client=11&action=team.viewed")
    await exported(client, "practitioner=tom")
    viewed = await AuditEvent.get(action="admin.viewed")
    assert viewed.actor_id == people["grace"].id
    assert viewed.detail == {
        "page": "audit",
        "filters": {"client": "11", "action": "team.viewed"},
        "older": False,
    }
    downloaded = await AuditEvent.get(action="admin.exported")
    assert downloaded.detail == {"page": "audit", "filters": {"practitioner": "tom"}}
    assert not any("Looked at" in row[2] for row in table((await client.get("/admin/audit")).text))
    own = table((await client.get("/admin/audit?action=admin.viewed")).text)
    assert len(own) == 2 and all(row[1].startswith("Grace Okafor") for row in own)
    assert own[-1][5] == "Filters: action team.viewed; client 11 · Older: no · Page: audit"


def test_the_event_types_are_every_action_the_code_records():
    """One list (web/admin/audit_log_events.py): a new audited action must be named there."""
    source = "\n".join(p.read_text() for p in WEB.rglob("*.py"))
    written = set(re.findall(r'record\(\s*(?:request|None),\s*"([a-z_.]+)"', source))
    written |= set(re.findall(r'jobs\.once\(\s*"([a-z_.]+)"', source))
    written |= set(re.findall(r'AuditEvent\([^)]*action="([a-z_.]+)"', source))
    written |= set(re.findall(r'audit\.event\(\s*request,\s*"([a-z_.]+)"', source))
    written |= set(re.findall(r'viewed\(\s*request,\s*"[a-z]+",\s*"([a-z_.]+)"', source))
    written |= {"admin.viewed"} if "await viewed(request" in source else set()
    written |= {f"attention.{w}" for w in re.findall(r'record_and_tell\([^)]*"([a-z]+)"', source)}
    assert written == set(LABELS)
