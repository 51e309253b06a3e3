"""Your clients, most urgent first: open attentions and involvements to confirm on top, then
the rest by latest activity; sorts and a filter as plain links (issue 16)."""

from __future__ import annotations

import re
from datetime import timedelta
from itertools import count
from typing import Any

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from models.attentions import Attention
from models.practitioners import Practitioner
from tests import support
from tests.web.helpers import sign_in
from web.core import cards, clock

NAMES = ("Able", "Baker", "Cole", "Dunn", "Ellis")
#: Unique emails across Hypothesis examples, which share one database within the test.
SERIAL = count()


async def client_with(
    viewer: Practitioner,
    family: str,
    *,
    days_since: int = 30,
    open_attentions: int = 0,
    resolved: int = 0,
    confirm_due: bool = False,
) -> Any:
    """A client of `viewer`'s whose latest activity is `viewer` joining `days_since` ago."""
    moment = clock.now()
    joined = moment - timedelta(days=days_since)
    made = await support.client("Kim", family)
    membership = await support.member(made, viewer, started_at=joined)
    confirmed = moment - timedelta(days=120 if confirm_due else 1)
    membership.last_confirmed_at = confirmed
    await membership.save(update_fields=["last_confirmed_at"])
    older = joined - timedelta(days=1)
    for n in range(open_attentions + resolved):
        resolved_at = older if n >= open_attentions else None
        await Attention.create(
            client=made, raised_by=viewer, text="Call me", created_at=older, resolved_at=resolved_at
        )
    return made


def position(found: list[cards.ClientCard], client: Any) -> int:
    return [c.client.id for c in found].index(client.id)


async def test_attentions_then_involvements_to_confirm_then_latest_activity_first(db):
    priya = await support.practitioner()
    quiet_b = await client_with(priya, "Baker", days_since=200)
    quiet_a = await client_with(priya, "Able", days_since=300)
    recent_old = await client_with(priya, "Cole", days_since=10)
    recent_new = await client_with(priya, "Dunn", days_since=2)
    confirm = await client_with(priya, "Ellis", days_since=200, confirm_due=True)
    one = await client_with(priya, "Fox", days_since=200, open_attentions=1)
    three = await client_with(priya, "Gray", days_since=200, open_attentions=3, resolved=2)
    found = await cards.my_clients(priya, sort="urgent")
    assert [c.client.id for c in found] == [
        three.id,
        one.id,
        confirm.id,
        recent_new.id,
        recent_old.id,
        quiet_b.id,
        quiet_a.id,
    ]
    assert [c.open_attentions for c in found[:2]] == [3, 1]
    assert [c.urgent for c in found] == [True, True, True, False, False, False, False]
    assert found[2].confirm_due and found[2].lapsed and not found[0].confirm_due
    assert [c.recent for c in found[3:]] == [True, True, False, False]
    assert found[3].last_activity_on == clock.as_local(clock.now() - timedelta(days=2)).date()
    assert {c.teams for c in found} == {7}

    by_name = await cards.my_clients(priya, sort="name")
    assert [c.client.family_name for c in by_name] == list(
        "Able Baker Cole Dunn Ellis Fox Gray".split()
    )
    recent = await cards.my_clients(priya, sort="recent")
    assert [c.client.id for c in recent[:2]] == [recent_new.id, recent_old.id]
    moments = [c.last_activity for c in recent]
    assert moments == sorted(moments, reverse=True)  # type: ignore[type-var]
    only = await cards.my_clients(priya, sort="urgent", only_attentions=True)
    assert [c.client.id for c in only] == [three.id, one.id]
    assert {c.teams for c in only} == {7}  # counted before the filter
    # An unknown sort is the default order, never an error.
    assert await cards.my_clients(priya, sort="bogus") == found


async def test_the_order_is_one_statement(db):
    priya = await support.practitioner()
    for n, name in enumerate(NAMES):
        await client_with(priya, name, open_attentions=n % 2, days_since=n * 20)
    await cards.my_clients(priya)  # the area tree, read once per process
    for sort in cards.SORTS:
        with support.count_queries() as counted:
            found = await cards.my_clients(priya, sort=sort, only_attentions=sort == "recent")
        assert len(counted.queries) == 1, counted.queries
        assert found


async def test_a_discreet_member_moves_no_card(db):
    """Someone discreet joining, having contact or leaving is not activity anyone else sees: the
    order and every card read the same with or without them."""
    priya = await support.practitioner()
    westside = await support.organisation(
        "Westside Recovery Service", "westsiderecovery.example", sensitive=True
    )
    sam = await support.practitioner("Sam Lee", "sam.lee@westsiderecovery.example", westside)
    able = await client_with(priya, "Able", days_since=100)
    baker = await client_with(priya, "Baker", days_since=200)
    before = await cards.my_clients(priya, sort="recent")
    assert [c.client.id for c in before] == [able.id, baker.id]
    await support.member(baker, sam, discreet=True, last_contact_on=clock.today())
    await support.member(able, sam, discreet=True, ended_at=clock.now())
    after = await cards.my_clients(priya, sort="recent")
    assert [(c.client.id, c.last_activity, c.visible_members, c.recent) for c in after] == [
        (c.client.id, c.last_activity, c.visible_members, False) for c in before
    ]
    # Sam, on the other hand, sees his own joining as the latest on that team.
    assert (await cards.my_clients(sam, sort="recent"))[0].client.id == baker.id


async def test_a_visible_members_contact_and_an_attention_are_activity(db):
    priya = await support.practitioner()
    tom = await support.practitioner("Tom Walsh", "tom.walsh@wyndham.example")
    able = await client_with(priya, "Able", days_since=100)
    baker = await client_with(priya, "Baker", days_since=200)
    await support.member(baker, tom, started_at=clock.now() - timedelta(days=150))
    await support.member(able, tom, started_at=clock.now() - timedelta(days=150))
    assert [c.client.id for c in await cards.my_clients(priya, sort="recent")] == [
        able.id,
        baker.id,
    ]
    await Attention.filter(client=baker).delete()
    tom_on_baker = await baker.memberships.filter(practitioner=tom).first()
    tom_on_baker.last_contact_on = clock.today() - timedelta(days=3)
    await tom_on_baker.save(update_fields=["last_contact_on"])
    found = await cards.my_clients(priya, sort="urgent")
    assert [c.client.id for c in found] == [baker.id, able.id]
    assert found[0].recent and not found[1].recent
    await Attention.create(
        client=able, raised_by=tom, text="Resolved", created_at=clock.now(), resolved_at=clock.now()
    )
    assert (await cards.my_clients(priya, sort="recent"))[0].client.id == able.id


CARD = st.fixed_dictionaries(
    {
        "family": st.sampled_from(NAMES),
        "days_since": st.integers(min_value=0, max_value=400),
        "open_attentions": st.integers(min_value=0, max_value=2),
        "resolved": st.integers(min_value=0, max_value=1),
        "confirm_due": st.booleans(),
    }
)


@hypothesis_settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(drawn=st.lists(CARD, min_size=0, max_size=6))
async def test_every_card_with_open_attentions_comes_before_every_card_without(db, drawn):
    """For every set of cards: attentions first, then involvements to confirm, then the rest by
    latest activity (the recent ones first); the filter keeps exactly the first."""
    n = next(SERIAL)
    viewer = await support.practitioner(f"Viewer {n}", f"viewer{n}@brimbank.example")
    for card in drawn:
        await client_with(viewer, **card)
    found = await cards.my_clients(viewer, sort="urgent")
    assert len(found) == len(drawn)
    flags = [c.open_attentions > 0 for c in found]
    assert flags == sorted(flags, reverse=True)
    urgent = [c.urgent for c in found]
    assert urgent == sorted(urgent, reverse=True)
    calm = [c for c in found if not c.urgent]
    recent = [c.recent for c in calm]
    assert recent == sorted(recent, reverse=True)
    latest = [c.last_activity for c in calm]
    assert latest == sorted(latest, reverse=True)  # type: ignore[type-var]
    only = await cards.my_clients(viewer, sort="urgent", only_attentions=True)
    assert [c.client.id for c in only] == [c.client.id for c in found if c.open_attentions]


# -- the page ---------------------------------------------------------------------------------


def current_links(html: str) -> list[str]:
    return re.findall(r'<a href="[^"]*" aria-current="true"[^>]*>([^<]+)</a>', html)


def card_names(html: str) -> list[str]:
    return re.findall(r'<h2 class="card-title"><a href="/clients/\d+">([^<]+)</a>', html)


async def test_the_sorts_and_the_filter_are_plain_links(client):
    priya = await support.practitioner()
    await client_with(priya, "Able", days_since=300)
    calm = await client_with(priya, "Baker", days_since=3)
    flagged = await client_with(priya, "Cole", days_since=300, open_attentions=2)
    confirm = await client_with(priya, "Dunn", days_since=300, confirm_due=True)
    await sign_in(client, priya)

    home = await client.get("/")
    assert home.status_code == 200
    html = home.text
    assert card_names(html) == ["Kim Cole", "Kim Dunn", "Kim Baker", "Kim Able"]
    assert current_links(html) == ["Urgent", "All"]
    for link in ('href="/?sort=recent"', 'href="/?sort=name"', 'href="/?show=attentions"'):
        assert link in html
    assert "You are on 4 teams. 2 need you first." in html
    assert f'href="/clients/{flagged.id}/attentions">2 open attentions' in html
    assert f'href="/clients/{confirm.id}/checkin">Confirm you are still involved' in html
    assert "The team sees “not confirmed”." in html
    assert "Last activity 3 days ago" in html and f"/clients/{calm.id}/checkin" not in html

    by_name = (await client.get("/?sort=name")).text
    assert card_names(by_name) == ["Kim Able", "Kim Baker", "Kim Cole", "Kim Dunn"]
    assert current_links(by_name) == ["Name", "All"]
    assert 'href="/?sort=name&amp;show=attentions"' in by_name  # the filter keeps the sort

    only = (await client.get("/?sort=name&show=attentions")).text
    assert card_names(only) == ["Kim Cole"]
    assert current_links(only) == ["Name", "Open attentions"]
    assert "1 of your 4 clients has open attentions." in only
    assert 'href="/?sort=name" data-text="All">All</a>' in only


async def test_an_unknown_sort_or_filter_is_the_default_never_an_error(client):
    priya = await support.practitioner()
    await client_with(priya, "Able", days_since=300)
    await client_with(priya, "Baker", days_since=300, open_attentions=1)
    await sign_in(client, priya)
    default = card_names((await client.get("/")).text)
    for query in (
        "sort=bogus",
        "show=everything",
        "sort=&show=",
        "sort=name%27--",
        "sort=a&sort=b",
    ):
        response = await client.get(f"/?{query}")
        assert response.status_code == 200, query
        assert card_names(response.text) == default == ["Kim Baker", "Kim Able"]
        assert current_links(response.text) == ["Urgent", "All"]


async def test_with_no_attention_open_the_filter_says_so(client):
    priya = await support.practitioner()
    await client_with(priya, "Able")
    await sign_in(client, priya)
    html = (await client.get("/?show=attentions")).text
    assert "None of your clients has an open attention." in html
    assert '<a href="/">Show all your clients</a>' in html
    assert card_names(html) == []
    nobody = await support.practitioner("Nora Quinn", "nora.quinn@brimbank.example")
    await sign_in(client, nobody)
    empty = (await client.get("/")).text
    assert "You are not on any client's team yet." in empty and "card-order" not in empty
