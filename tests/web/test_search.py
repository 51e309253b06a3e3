"""One corpus of forgiving searches, run on SQLite and on PostgreSQL alike (the suite runs
twice in CI). Each case names who must be found, and who must not."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from tests import support
from web.core.name_index import FRESH_SECONDS, distance, fold, name_words, query_tokens
from web.core.search import Query, search

PEOPLE = [
    ("Mia", "Thompson", "", date(2023, 3, 14), None, "LGA21180"),
    ("Leo", "Thompson", "", date(2019, 8, 2), None, "LGA21180"),
    ("Jade", "Thompson", "", date(1997, 5, 20), None, "LGA21180"),
    ("Mia", "Tran", "", date(2016, 1, 9), None, "LGA27260"),
    ("Michael", "Thomas", "", date(2012, 6, 1), None, "LGA24650"),
    ("Liam", "O'Brien", "", date(2010, 2, 2), None, "LGA21180"),
    ("Anh", "Nguyen-Tran", "", date(2014, 4, 4), None, "LGA24330"),
    ("Zoë", "Papadopoulos", "", None, 2011, "LGA22750"),
    ("Jarrah", "Mundine", "Jay; JJ", date(2008, 12, 25), None, "LGA23270"),
    ("Fatima", "Hussein", "", None, None, "LGA21180"),
]

CASES = [
    # query, date or year of birth, who must come first
    ("Mia Thompson", "", "Mia Thompson"),
    ("mia thompson", "", "Mia Thompson"),
    ("Thompson Mia", "", "Mia Thompson"),
    ("Mia Thompsen", "", "Mia Thompson"),
    ("mia thomsen", "", "Mia Thompson"),  # two edits: a letter missed and one changed
    ("Thompsen Mia", "", "Mia Thompson"),
    ("Maia Thompson", "", "Mia Thompson"),
    ("mi thom", "", "Mia Thompson"),
    ("thom mi", "", "Mia Thompson"),
    ("Liam O'Brien", "", "Liam O'Brien"),
    ("liam obrien", "", "Liam O'Brien"),
    ("Liam O Brien", "", "Liam O'Brien"),
    ("Liam OBrian", "", "Liam O'Brien"),
    ("Anh Nguyen-Tran", "", "Anh Nguyen-Tran"),
    ("Anh Nguyen Tran", "", "Anh Nguyen-Tran"),
    ("anh nguyentran", "", "Anh Nguyen-Tran"),
    ("Anh Tran", "", "Anh Nguyen-Tran"),
    ("Zoë Papadopoulos", "", "Zoë Papadopoulos"),
    ("Zoe Papadopoulos", "", "Zoë Papadopoulos"),
    ("zoe papadopolous", "", "Zoë Papadopoulos"),
    ("Jay Mundine", "", "Jarrah Mundine"),
    ("Mundine", "2008-12-25", "Jarrah Mundine"),
    ("Thompson", "2019", "Leo Thompson"),
    ("Zoe", "2011", "Zoë Papadopoulos"),
    ("Fatima Husein", "", "Fatima Hussein"),
]


@pytest.fixture
async def people(db):
    made = {}
    for given, family, other, born, year, code in PEOPLE:
        made[f"{given} {family}"] = await support.client(
            given,
            family,
            other_names=other,
            birth_date=born,
            birth_year=year,
            area=await support.council(code),
        )
    return made


def parse(text: str, born: str) -> Query:
    if len(born) == 4:
        return Query(tuple(query_tokens(text)), born_in=int(born))
    if born:
        return Query(tuple(query_tokens(text)), born_on=date.fromisoformat(born))
    return Query(tuple(query_tokens(text)))


@pytest.mark.parametrize("text, born, expected", CASES)
async def test_the_intended_person_comes_first(people, text, born, expected):
    hits = await search(parse(text, born))
    assert hits, f"{text!r} found nobody"
    assert hits[0].client.id == people[expected].id, [h.client.full_name for h in hits]


async def test_birth_details_narrow_the_results(people):
    thompsons = await search(parse("Thompson", "2019"))
    assert [h.client.given_name for h in thompsons] == ["Leo"]
    assert await search(parse("Mia Thompson", "2001-01-01")) == []


async def test_unrelated_names_are_not_found(people):
    assert await search(parse("Xavier Quinlan", "")) == []
    found = {h.client.full_name for h in await search(parse("Mia Thompson", ""))}
    assert "Fatima Hussein" not in found and "Liam O'Brien" not in found


async def test_areas_limit_where_to_look(people):
    brimbank = await support.council("LGA21180")
    local = await search(parse("Mia T", ""), in_areas=[brimbank.id])
    assert [h.client.full_name for h in local] == ["Mia Thompson"]
    elsewhere = await search(parse("Mia T", ""), not_in_areas=[brimbank.id])
    assert [h.client.full_name for h in elsewhere] == ["Mia Tran"]


async def test_renaming_a_client_reindexes_it(people):
    from web.core.name_index import index_clients

    mia = people["Mia Thompson"]
    mia.family_name = "Walker"
    await mia.save()
    await index_clients([mia])
    assert [h.client.id for h in await search(parse("Mia Walker", ""))] == [mia.id]
    assert mia.id not in [h.client.id for h in await search(parse("Mia Thompson", ""))]


def test_words_are_folded_and_split():
    assert fold("Zoë O'Brien") == "zoe obrien"
    assert name_words("Anh", "Nguyen-Tran", "Jay; JJ") == {
        "anh",
        "nguyen",
        "tran",
        "nguyentran",
        "jay",
        "jj",
    }
    assert query_tokens("  Thompson,  MIA ") == ["thompson", "mia"]


def test_a_swap_is_one_edit():
    assert distance("thompson", "thomspon", 2) == 1
    assert distance("mia", "maia", 1) == 1
    assert distance("mia", "leo", 1) == 2


def test_a_search_needs_enough_to_go_on():
    assert not Query(("mia",)).acceptable
    assert not Query(("m", "t")).acceptable
    assert Query(("mi", "t")).acceptable
    assert Query(("thompson",), born_in=2019).acceptable
    assert not Query(("t",), born_in=2019).acceptable


async def test_a_client_another_process_added_is_found_at_once(people):
    """Issue 18: a web process's vocabulary learns another process's new words when a search
    meets a word it does not know (unless it looked within FRESH_SECONDS), not seconds later.
    Another process's writes are simulated by SQL this process's vocabulary does not see."""
    from tortoise import connections

    from web.core import db

    assert await search(Query(("mia", "thompson")))  # this process's vocabulary is loaded
    sql = connections.get("default")
    mark = "?" if db.dialect() == "sqlite" else "$1"
    brimbank = await support.council("LGA21180")
    other = await support.client("Placeholder", "Row", area=brimbank)
    for word in ("quokka", "wirrpanda"):
        await sql.execute_query(f"INSERT INTO name_word (word) VALUES ({mark})", [word])
    await sql.execute_query(
        f"UPDATE client SET given_name = 'Quokka', family_name = 'Wirrpanda' WHERE id = {other.id}"
    )
    await sql.execute_query(f"DELETE FROM client_name_word WHERE client_id = {other.id}")
    await sql.execute_query(
        "INSERT INTO client_name_word (word_id, area_id, client_id) SELECT id, "
        f"{brimbank.id}, {other.id} FROM name_word WHERE word IN ('quokka', 'wirrpanda')"
    )
    await asyncio.sleep(FRESH_SECONDS)  # this process's own last look is not that recent
    [hit] = await search(Query(("quokka", "wirrpanda")))
    assert hit.client.id == other.id
