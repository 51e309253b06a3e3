"""The Circle tab's network picture and its cards: every practitioner the viewer may see as a
labelled node that links to their card, whose phone and email are one tap away; a layout that
stays legible and untangled from one link to ten of ten practitioners each."""

from __future__ import annotations

import re
from datetime import date
from itertools import combinations
from types import SimpleNamespace
from typing import Any

from models.circles import CircleLink
from models.organisations import SERVICE_TYPES, Organisation
from tests import support
from tests.web.helpers import csrf_token, sign_in
from web.teams import circle_picture
from web.teams.circle_picture import KINDS, WIDTH, Group, draw, kind_of, wrapped

#: A 390 px phone's column (16 px of padding each side) and a 320 px one's (12 px).
PHONE, SMALL_PHONE = 390 - 32, 320 - 24


def fake_client(n: int, given: str = "Client", family: str = "Thompson") -> Any:
    return SimpleNamespace(
        id=n, given_name=given, family_name=family, full_name=f"{given} {family}"
    )


def fake_membership(n: int, role: str, service_type: str, name: str = "") -> Any:
    organisation = SimpleNamespace(name=f"Organisation {n}", service_type=service_type)
    practitioner = SimpleNamespace(
        id=n, name=name or f"Practitioner Number {n}", organisation=organisation
    )
    return SimpleNamespace(practitioner=practitioner, role=role)


LONG_ROLES = [
    "Maternal & Child Health Nurse",
    "Senior Child Protection Practitioner, After Hours Emergency Service",
    "Youth Worker",
    "Wellbeing Coordinator and Student Support Services Officer for the Western Region",
    "Sergeant",
]


def big_circle(members: int = 10, each: int = 10) -> tuple[Group, list[Group]]:
    types = list(SERVICE_TYPES)
    ids = iter(range(1, 10_000))

    def team(count: int) -> list[Any]:
        people = []
        for k in range(count):
            n = next(ids)
            name = "Maximiliana Wolstenholme-Worthington" if k == 3 else ""
            people.append(fake_membership(n, LONG_ROLES[k % 5], types[n % len(types)], name))
        return people

    centre = Group(fake_client(1, "Mia"), "", team(4))
    circle = [
        Group(
            fake_client(100 + m, f"Member{m}", "Featherstonehaugh-Montgomery"),
            "Sibling",
            team(each),
        )
        for m in range(members)
    ]
    return centre, circle


def test_ten_circle_members_of_ten_practitioners_each_lay_out_untangled():
    centre, circle = big_circle()
    picture = draw(centre, circle, viewer_id=1)
    seats = [seat for person in picture.people for seat in person.seats]
    assert len(picture.people) == 11 and len(seats) == 104
    # The client whose circle it is sits in the middle, five of the circle either side.
    assert [p.centre for p in picture.people].index(True) == 5
    assert len({s.anchor for s in seats}) == len(seats)
    boxes = picture.boxes()
    for box in boxes:  # inside the picture
        assert 0 <= box.x0 < box.x1 <= WIDTH and 0 <= box.y0 < box.y1 <= picture.height, box
    for one, other in combinations(boxes, 2):  # no node or label over another
        assert not one.overlaps(other), (one, other)
    # Groups stack without overlapping, inside the picture, each holding its own nodes.
    for above, below in zip(picture.people, picture.people[1:], strict=False):
        assert above.frame.y1 < below.frame.y0 and not above.frame.overlaps(below.frame)
    for person in picture.people:
        frame = person.frame
        assert 0 <= frame.x0 and frame.x1 <= WIDTH and 0 <= frame.y0 and frame.y1 <= picture.height
        for box in person.boxes() + [b for seat in person.seats for b in seat.boxes()]:
            assert frame.x0 <= box.x0 and box.x1 <= frame.x1, (frame, box)
            assert frame.y0 <= box.y0 and box.y1 <= frame.y1, (frame, box)
    # Each practitioner's row is a comfortable target.
    for seat in seats:
        assert (seat.bottom - seat.top) * SMALL_PHONE / WIDTH >= 24
        assert (seat.bottom - seat.top) * PHONE / WIDTH >= 44
    # Text renders at 12 px or more on a 390 px phone (and very nearly on a 320 px one).
    for size in circle_picture.FONT_SIZES:
        assert size * PHONE / WIDTH >= 12
        assert size * SMALL_PHONE / WIDTH >= 11.9


def test_a_small_circle_is_a_short_picture():
    centre = Group(fake_client(1, "Mia"), "", [fake_membership(1, "Nurse", "Health", "Priya Nair")])
    leo = Group(fake_client(2, "Leo"), "Sibling", [fake_membership(2, "Youth Worker", "Police")])
    picture = draw(centre, [leo], viewer_id=1)
    assert [p.centre for p in picture.people] == [True, False]  # one below the client
    assert picture.height < 300
    assert [k[0] for k in picture.kinds] == ["health", "police"]  # the legend: what is drawn
    assert picture.people[0].seats[0].name == ["Priya Nair (you)"]
    assert picture.people[1].note == ["Sibling · 1 practitioner"]


def test_long_labels_wrap_and_then_end_short_but_the_link_names_it_all():
    assert wrapped("Youth Worker", 13, 200, 2) == ["Youth Worker"]
    lines = wrapped(LONG_ROLES[3], 13, 200, 2)
    assert len(lines) == 2 and lines[-1].endswith("…")
    assert wrapped("Supercalifragilisticexpialidocious", 13, 100, 1)[0].endswith("…")
    centre, circle = big_circle(1, 4)
    seat = draw(centre, circle, viewer_id=0).people[1].seats[3]
    assert LONG_ROLES[3] in seat.label and "Maximiliana Wolstenholme-Worthington" in seat.label


def test_every_service_type_has_a_shape_and_pattern_of_its_own():
    shapes = {shape for _label, shape, _pattern in KINDS.values()}
    patterns = {pattern for _label, _shape, pattern in KINDS.values()}
    assert len(shapes) == len(patterns) == len(KINDS)
    kinds = {kind_of(Organisation(name="x", service_type=t)) for t in SERVICE_TYPES}
    assert kinds == set(KINDS)
    assert kind_of(Organisation(name="x", service_type="Child Protection")) == "social"
    assert kind_of(Organisation(name="x", service_type="Police")) == "police"
    assert kind_of(Organisation(name="x", service_type="Education")) == "education"


async def linked_siblings(client):
    priya, aroha, sam, tom, mia, leo = await support.thompson_siblings()
    await Organisation.filter(name="DFFH — Child Protection").update(
        service_type="Child Protection"
    )
    await sign_in(client, priya)
    path = f"/clients/{mia.id}/circle"
    token = await csrf_token(client, path)
    response = await client.post(
        path, data={"csrf_token": token, "other": str(leo.id), "relationship": "sibling"}
    )
    assert response.status_code == 303
    return priya, aroha, sam, tom, mia, leo


def svg_of(page: str) -> str:
    found = re.search(r'<svg viewBox="0 0 320 [^"]+"[^>]*role="group".*?</svg>', page, re.S)
    assert found, "the circle page draws its picture"
    return found.group(0)


async def test_each_practitioner_is_a_node_linking_to_a_card_with_phone_and_email(client):
    priya, aroha, sam, tom, mia, leo = await linked_siblings(client)
    await sign_in(client, tom)  # on Leo's team only
    page = (await client.get(f"/clients/{leo.id}/circle")).text
    svg = svg_of(page)
    assert 'aria-labelledby="picture-title"' in svg and 'aria-describedby="picture-desc"' in svg
    anchors = re.findall(r'<a href="#(p-\d+-\d+)"', svg)
    # Leo's team (Tom, Priya) and Mia's as Tom may see it (Priya, Aroha): never Sam.
    assert sorted(anchors) == sorted(
        f"p-{c.id}-{p.id}" for c, p in [(leo, tom), (leo, priya), (mia, priya), (mia, aroha)]
    )
    assert "Sam Lee" not in page and "Westside" not in page and f'-{sam.id}"' not in page
    assert 'href="#kind-health"' in svg and 'href="#kind-social"' in svg  # shapes by kind
    assert "Aroha Ngata" in svg and "Child Protection Practitioner" in svg  # labelled nodes
    # Each anchor is a card in the list below, with tap-to-call and email.
    for anchor in anchors:
        card = re.search(rf'<li id="{anchor}" class="circle-practitioner">.*?</ul>', page, re.S)
        assert card, anchor
        assert 'href="tel:' in card.group(0) and 'href="mailto:' in card.group(0)
    aroha_card = re.search(rf'<li id="p-{mia.id}-{aroha.id}".*?</li>\s*</ul>', page, re.S)
    assert aroha_card and 'href="tel:0355503456"' in aroha_card.group(0)
    assert 'href="mailto:aroha.ngata@dffh.example"' in aroha_card.group(0)
    # The legend names what the shapes mean, for the kinds drawn.
    legend = re.search(r'<ul class="circle-legend".*?</ul>', page, re.S)
    assert legend and "Health" in legend.group(0)
    assert "Social services and child protection" in legend.group(0)
    assert "Police" not in legend.group(0)


async def test_a_member_of_either_team_sees_the_other_teams_phone_numbers(client):
    priya, aroha, sam, tom, mia, leo = await linked_siblings(client)
    page = (await client.get(f"/clients/{mia.id}/circle")).text  # Priya, on both
    leo_card = re.search(r'<article class="card circle-card" id="c-\d+">.*?</article>', page, re.S)
    assert leo_card and "Tom Walker" in leo_card.group(0)
    assert 'href="tel:0355501234"' in leo_card.group(0)
    assert 'href="mailto:tom.walker@brimbank.example"' in leo_card.group(0)
    await sign_in(client, tom)
    page = (await client.get(f"/clients/{leo.id}/circle")).text
    assert 'href="tel:0491570156"' in page  # Priya's mobile, on Mia's card
    assert "0491 570 159" not in page  # Sam's


async def test_a_picture_of_many_links_takes_no_more_queries(client):
    priya, aroha, sam, tom, mia, leo = await linked_siblings(client)
    with support.count_queries() as one:
        assert (await client.get(f"/clients/{mia.id}/circle")).status_code == 200
    for n in range(3):
        extra = await support.client(f"Extra{n}", birth_date=date(2010, 1, n + 1))
        await support.member(extra, priya)
        await support.member(extra, tom)
        path = f"/clients/{mia.id}/circle"
        token = await csrf_token(client, path)
        await client.post(
            path, data={"csrf_token": token, "other": str(extra.id), "relationship": "household"}
        )
    assert await CircleLink.all().count() == 4
    with support.count_queries() as many:
        page = (await client.get(f"/clients/{mia.id}/circle")).text
    assert len(many.queries) == len(one.queries) <= 6
    assert (
        len(re.findall(r'<a href="#p-', svg_of(page))) == 2 + 2 + 3 * 2
    )  # Mia (not Sam), Leo, each extra
