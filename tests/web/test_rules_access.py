"""Who may see what (web/core/access.py), rule by rule, on Mia's team.

Written to kill the mutants `python -m tests --mutate web/core/access.py` found surviving: each
rule is asked directly, with the people it must include next to those it must leave out
(a former member, a member of another team, a discreet member), and compared whole."""

from __future__ import annotations

from datetime import timedelta

from models.attentions import Attention
from models.practitioners import AdminArea
from models.teams import Membership
from tests import support
from web.core import access, cards, clock, history, references
from web.core.areas import forget_area_tree
from web.core.scopes import administered_council_ids, my_areas, search_scopes


async def westside_colleague(name: str, email: str):
    westside = await support.organisation(
        "Westside Recovery Service", "westsiderecovery.example", sensitive=True
    )
    return await support.practitioner(name, email, westside, job_title="Counsellor")


async def test_discreet_members_are_the_current_discreet_members_of_that_team_only(db):
    priya, aroha, sam, mia = await support.thompson_team()
    ben = await westside_colleague("Ben Hart", "ben.hart@westsiderecovery.example")
    await support.member(mia, ben, discreet=True, ended_at=clock.now(), end_reason="other")
    dee = await westside_colleague("Dee Moss", "dee.moss@westsiderecovery.example")
    leo = await support.client("Leo")
    await support.member(leo, dee, discreet=True)
    assert [p.id for p in await access.discreet_members(mia.id)] == [sam.id]
    assert [p.id for p in await access.discreet_members(leo.id)] == [dee.id]


async def test_a_discreet_member_sees_their_own_past_membership_and_nobody_elses(db):
    priya, aroha, sam, mia = await support.thompson_team()
    ben = await westside_colleague("Ben Hart", "ben.hart@westsiderecovery.example")
    await support.member(mia, ben, discreet=True)
    await Membership.filter(practitioner_id__in=[sam.id, aroha.id]).update(
        ended_at=clock.now(), end_reason="case_closed"
    )

    async def seen_by(viewer) -> set[int]:
        rows = await Membership.filter(access.ever_visible_to(viewer), client_id=mia.id)
        return {m.practitioner_id for m in rows}  # type: ignore[attr-defined]

    assert await seen_by(sam) == {priya.id, aroha.id, sam.id}  # Aroha left, still history
    assert await seen_by(ben) == {priya.id, aroha.id, ben.id}
    assert await seen_by(priya) == {priya.id, aroha.id}


async def attention(client, raiser, named: bool, text: str = "Moving house") -> Attention:
    made = await Attention.create(client=client, raised_by=raiser, named=named, text=text)
    return await Attention.get(id=made.id).select_related("raised_by")


async def test_who_raised_an_attention_as_each_member_sees_it(db):
    priya, aroha, sam, mia = await support.thompson_team()
    visible = {priya.id, aroha.id}
    named = await attention(mia, priya, named=True)
    unnamed = await attention(mia, priya, named=False)
    by_sam = await attention(mia, sam, named=False)
    by_sam_named = await attention(mia, sam, named=True)  # not something the app lets happen
    gone = await attention(mia, None, named=True)

    def raisers(viewer) -> list[str]:
        return [
            access.attention_raiser(viewer, a, visible)
            for a in (named, unnamed, by_sam, by_sam_named, gone)
        ]

    hidden = "Priya Nair (shown to the team as “A team member”)"
    assert raisers(priya) == [
        "Priya Nair",
        hidden,
        "A team member",
        "A team member",
        "A team member",
    ]
    assert raisers(aroha) == [
        "Priya Nair",
        "A team member",
        "A team member",
        "A team member",
        "A team member",
    ]
    sam_sees = ["Priya Nair", "A team member", "Sam Lee (shown to the team as “A team member”)"]
    assert raisers(sam) == [*sam_sees, "Sam Lee", "A team member"]


async def test_the_history_names_each_event_its_kind_and_who_newest_first(db):
    priya, aroha, sam, mia = await support.thompson_team()
    start = clock.now() - timedelta(days=10)
    await Membership.filter(practitioner_id=priya.id).update(started_at=start, visible_since=start)
    await Membership.filter(practitioner_id=aroha.id).update(
        started_at=start + timedelta(days=1),
        visible_since=start + timedelta(days=1),
        ended_at=start + timedelta(days=5),
        end_reason="transferred",
    )
    tom = await support.practitioner("Tom Walker", "tom.walker@brimbank.example")
    await support.member(
        mia, tom, started_at=start + timedelta(days=6), ended_at=start + timedelta(days=7)
    )
    raised = await attention(mia, priya, named=True, text="Moving house")
    await Attention.filter(id=raised.id).update(
        created_at=start + timedelta(days=2), resolved_at=start + timedelta(days=3)
    )
    memberships = await Membership.filter(
        access.ever_visible_to(priya), client_id=mia.id
    ).select_related("practitioner__organisation")
    attentions = await Attention.filter(client_id=mia.id).select_related("raised_by")
    events = history.history_events(priya, memberships, attentions)
    assert [(e.at, e.kind, e.who, e.text) for e in events] == [
        (start + timedelta(days=7), "left", "Tom Walker", "left the team (other)"),
        (
            start + timedelta(days=6),
            "joined",
            "Tom Walker",
            "joined as Maternal & Child Health Nurse, "
            "Brimbank City Council — Maternal & Child Health",
        ),
        (
            start + timedelta(days=5),
            "left",
            "Aroha Ngata",
            "left the team (transferred)",
        ),
        (start + timedelta(days=3), "resolved", "A team member", "resolved an attention"),
        (
            start + timedelta(days=2),
            "attention",
            "Priya Nair",
            "raised an attention: Moving house",
        ),
        (
            start + timedelta(days=1),
            "joined",
            "Aroha Ngata",
            "joined as Child Protection Practitioner, DFFH — Child Protection",
        ),
        (
            start,
            "joined",
            "Priya Nair",
            "joined as Maternal & Child Health Nurse, "
            "Brimbank City Council — Maternal & Child Health",
        ),
    ]


async def test_a_member_joins_in_the_teams_eyes_when_they_became_visible(db):
    priya, aroha, sam, mia = await support.thompson_team()
    started = clock.now() - timedelta(days=30)
    shown = clock.now() - timedelta(days=3)
    await Membership.filter(practitioner_id=sam.id).update(started_at=started, visible_since=shown)
    await Membership.filter(practitioner_id=aroha.id).update(started_at=started, visible_since=None)
    sams, arohas = (
        await Membership.get(practitioner_id=sam.id),
        await Membership.get(practitioner_id=aroha.id),
    )
    assert access.joined_at(priya, sams) == shown
    assert access.joined_at(sam, sams) == started  # their own start, discreet time and all
    assert access.joined_at(priya, arohas) == started  # from before visible_since was kept
    assert access.seen_since(priya, sams) == shown
    assert access.seen_since(sam, sams) is None
    assert access.seen_since(priya, arohas) is None


async def test_a_last_contact_from_the_discreet_time_is_not_shown(db):
    priya, aroha, sam, mia = await support.thompson_team()
    shown = clock.now() - timedelta(days=3)
    shown_on = clock.as_local(shown).date()
    await Membership.filter(practitioner_id=sam.id).update(visible_since=shown)
    sams = await Membership.get(practitioner_id=sam.id)
    for contact, to_priya in (
        (shown_on - timedelta(days=1), None),
        (shown_on, shown_on),
        (shown_on + timedelta(days=1), shown_on + timedelta(days=1)),
    ):
        sams.last_contact_on = contact
        assert access.last_contact_seen(priya, sams) == to_priya
        assert access.last_contact_seen(sam, sams) == contact
    sams.last_contact_on = None
    assert access.last_contact_seen(priya, sams) is None
    sams.visible_since = None
    sams.last_contact_on = shown_on
    assert access.last_contact_seen(priya, sams) == shown_on


async def test_views_and_acknowledgements_count_only_from_visible_members_and_time(db):
    from models.attentions import AttentionSeen

    priya, aroha, sam, mia = await support.thompson_team()
    shown = clock.now() - timedelta(days=3)
    await Membership.filter(practitioner_id=aroha.id).update(visible_since=shown)
    raised = await attention(mia, priya, named=True)
    before, after = shown - timedelta(hours=1), shown + timedelta(hours=1)
    rows = [
        # Sam's first: a row of someone the viewer cannot see is skipped, not the end.
        AttentionSeen(
            attention_id=raised.id, practitioner_id=sam.id, seen_at=after, acknowledged_at=after
        ),
        AttentionSeen(attention_id=raised.id, practitioner_id=aroha.id, seen_at=before),
        AttentionSeen(attention_id=raised.id + 1, practitioner_id=aroha.id, seen_at=after),
        AttentionSeen(
            attention_id=raised.id + 2,
            practitioner_id=aroha.id,
            seen_at=before,
            acknowledged_at=before,
        ),
        AttentionSeen(
            attention_id=raised.id + 3,
            practitioner_id=aroha.id,
            seen_at=before,
            acknowledged_at=after,
        ),
        AttentionSeen(
            attention_id=raised.id,
            practitioner_id=priya.id,
            seen_at=before,
            acknowledged_at=before,
        ),
        # Seen and acknowledged at the very moment Aroha became visible: counted.
        AttentionSeen(
            attention_id=raised.id + 4,
            practitioner_id=aroha.id,
            seen_at=shown,
            acknowledged_at=shown,
        ),
    ]
    team = await access.visible_team(priya, mia.id)
    seen, acknowledged = access.seen_and_acknowledged(priya, team, rows)
    a = raised.id
    assert dict(seen) == {a: {priya.id}, a + 1: {aroha.id}, a + 4: {aroha.id}}
    assert dict(acknowledged) == {a: {priya.id}, a + 3: {aroha.id}, a + 4: {aroha.id}}
    # Aroha counts all of her own, and still nothing of Sam's.
    team = await access.visible_team(aroha, mia.id)
    seen, acknowledged = access.seen_and_acknowledged(aroha, team, rows)
    assert dict(seen) == {
        a: {aroha.id, priya.id},
        a + 1: {aroha.id},
        a + 2: {aroha.id},
        a + 3: {aroha.id},
        a + 4: {aroha.id},
    }
    assert dict(acknowledged) == {
        a + 2: {aroha.id},
        a: {priya.id},
        a + 3: {aroha.id},
        a + 4: {aroha.id},
    }


async def test_the_counts_on_an_attention_are_shown_only_where_they_cannot_tell(db):
    priya, aroha, sam, mia = await support.thompson_team()
    named = await attention(mia, priya, named=True)
    unnamed = await attention(mia, priya, named=False)
    assert access.attention_counts_shown(aroha, named)
    assert access.attention_counts_shown(priya, unnamed)
    assert not access.attention_counts_shown(aroha, unnamed)


async def test_the_team_each_member_sees_in_order(db):
    priya, aroha, sam, mia = await support.thompson_team()
    tom = await support.practitioner("Tom Walker", "tom.walker@brimbank.example")
    await support.member(mia, tom, ended_at=clock.now())
    leo = await support.client("Leo")
    await support.member(leo, aroha)
    same_time = clock.now() + timedelta(seconds=1)
    await Membership.filter(client_id=mia.id, practitioner_id__in=[aroha.id, sam.id]).update(
        started_at=same_time
    )
    # Joined last, but has worked with Mia the longest: first.
    ben = await support.practitioner("Ben Hart", "ben.hart@brimbank.example")
    await support.member(mia, ben, started_at=clock.now() - timedelta(days=500))

    async def team(viewer) -> list[int]:
        return [m.practitioner_id for m in await access.visible_team(viewer, mia.id)]  # type: ignore[attr-defined]

    assert await team(priya) == [ben.id, priya.id, aroha.id]  # by start, then joining order
    assert await team(sam) == [ben.id, priya.id, aroha.id, sam.id]
    [first, *_] = await access.visible_team(priya, mia.id)
    assert first.practitioner.organisation.name.startswith("Brimbank")  # loaded, no query
    assert await access.is_member(sam, mia.id)
    assert not await access.is_member(tom, mia.id)  # former member
    assert not await access.is_member(sam, leo.id)


async def test_my_clients_are_cards_in_name_order_with_what_i_may_count(db):
    from models.attentions import Attention as A

    priya, aroha, sam, mia = await support.thompson_team()
    leo = await support.client("Leo")
    zoe = await support.client("Zoe", "Adams")
    ann = await support.client("Ann", "Thompson")
    gone = await support.client("Gus", "Brown")
    for c in (leo, zoe, ann):
        await support.member(c, sam, discreet=True)
    await support.member(gone, sam, discreet=True, ended_at=clock.now())
    await support.member(leo, priya)
    await A.create(client=mia, raised_by=priya, text="Open")
    await A.create(client=mia, raised_by=priya, text="Closed", resolved_at=clock.now())
    found = await cards.my_clients(sam)
    assert [(c.client.given_name, c.visible_members, c.open_attentions) for c in found] == [
        ("Zoe", 1, 0),
        ("Ann", 1, 0),
        ("Leo", 2, 0),
        ("Mia", 3, 1),
    ]
    assert found[0].client.area.name == "Brimbank"
    assert found[0].membership.client_id == zoe.id  # type: ignore[attr-defined]
    priya_cards = await cards.my_clients(priya)
    assert [(c.client.given_name, c.visible_members) for c in priya_cards] == [
        ("Leo", 1),
        ("Mia", 2),
    ]
    nobody = await support.practitioner("Nora Quinn", "nora.quinn@brimbank.example")
    assert await cards.my_clients(nobody) == []


async def test_clients_of_the_same_name_are_in_the_order_they_were_added(db):
    priya = await support.practitioner()
    first = await support.client("Ann", "Lee")
    second = await support.client("Ann", "Lee")
    await support.member(second, priya)  # joined the newer one first
    await support.member(first, priya)
    found = await cards.my_clients(priya)
    assert [c.client.id for c in found] == [first.id, second.id]


async def test_my_areas_are_those_chosen_then_those_of_my_clients(db):
    from models.areas import Area
    from models.practitioners import PractitionerArea

    priya, aroha, sam, mia = await support.thompson_team()  # Mia lives in Brimbank
    melton = await support.council("LGA24650")
    wyndham = await support.council("LGA27260")
    geelong = await support.council("LGA22750")
    await PractitionerArea.create(practitioner=priya, area=wyndham, position=2)
    await PractitionerArea.create(practitioner=priya, area=melton, position=1)
    for given, area in (("Leo", geelong), ("Ivy", geelong), ("Max", wyndham)):
        await support.member(await support.client(given, area=area), priya)
    colac = await support.council("LGA21750")  # a client of old, in an area not chosen
    await support.member(await support.client("Old", area=colac), priya, ended_at=clock.now())
    assert [a.name for a in (await my_areas(priya)).mine] == [
        "Melton",
        "Wyndham",
        "Brimbank",
        "Greater Geelong",
    ]
    automatic = (await my_areas(priya)).automatic
    assert [(a.name, n) for a, n in automatic] == [("Brimbank", 1), ("Greater Geelong", 2)]
    scopes = await search_scopes(priya)
    assert [a.name for a in scopes.local] == ["Melton", "Wyndham", "Brimbank", "Greater Geelong"]
    district = {a.name for a in await Area.filter(id__in=scopes.district_council_ids)}
    assert "Melton" not in district and "Brimbank" not in district
    assert {"Colac Otway", "Surf Coast"} <= district  # Geelong's district (Barwon)
    assert all(a.kind == "council" for a in await Area.filter(id__in=scopes.district_council_ids))
    assert scopes.district_label == "Barwon and Brimbank Melton and Western Melbourne"
    assert scopes.state_label == "Victoria"


async def test_areas_chosen_at_one_position_keep_the_order_they_were_chosen(db):
    from models.practitioners import PractitionerArea

    priya = await support.practitioner()
    wyndham = await support.council("LGA27260")
    brimbank = await support.council("LGA21180")
    assert brimbank.id < wyndham.id
    await PractitionerArea.create(practitioner=priya, area=wyndham, position=1)
    await PractitionerArea.create(practitioner=priya, area=brimbank, position=1)
    assert [a.name for a in (await my_areas(priya)).mine] == ["Wyndham", "Brimbank"]


async def test_a_statewide_organisations_search_has_no_district(db):
    from models.areas import Area

    state = await Area.get(kind="state")
    statewide = await support.organisation("DFFH — Statewide", "dffh.example", area_code=state.code)
    nora = await support.practitioner("Nora Quinn", "nora.quinn@dffh.example", statewide)
    scopes = await search_scopes(nora)
    assert [a.name for a in scopes.local] == ["Victoria"]
    assert scopes.district_council_ids == []
    assert scopes.district_label == "your district"
    assert scopes.state_label == "Victoria"


async def test_a_deployment_without_a_state_area_still_names_the_widest_search(db):
    from models.areas import Area

    nora = await support.practitioner("Nora Quinn", "nora.quinn@brimbank.example")
    state = await Area.get(kind="state")
    await Area.filter(id=state.id).update(kind="region")  # a tree whose top is not a state
    forget_area_tree()  # each process reads the tree once: this one reads it again
    try:
        scopes = await search_scopes(nora)
    finally:
        await Area.filter(id=state.id).update(kind="state")
        forget_area_tree()
    assert scopes.state_label == "the state"
    assert scopes.district_label == "Brimbank Melton"


async def test_with_no_areas_the_search_starts_at_the_organisations_council(db):
    from models.areas import Area

    nora = await support.practitioner("Nora Quinn", "nora.quinn@brimbank.example")
    scopes = await search_scopes(nora)
    assert [a.name for a in scopes.local] == ["Brimbank"]
    assert [a.name for a in await Area.filter(id__in=scopes.district_council_ids)] == ["Melton"]
    assert scopes.district_label == "Brimbank Melton"


async def test_the_phone_book_lists_active_practitioners_who_finished_signing_up(db):
    from models.practitioners import SIGNUP_ANSWERED, Practitioner

    listed = await support.practitioner()
    await support.practitioner(
        "Ann Lee", "ann.lee@brimbank.example", signup_step=SIGNUP_ANSWERED - 1
    )
    await support.practitioner("Bo Ray", "bo.ray@brimbank.example", active=False)
    just = await support.practitioner(
        "Cy Fox", "cy.fox@brimbank.example", signup_step=SIGNUP_ANSWERED
    )
    found = await Practitioner.filter(access.listed_in_phone_book()).order_by("id")
    assert [p.id for p in found] == [listed.id, just.id]


async def test_invitations_are_managed_by_their_sender_or_an_administrator_of_their_area(db):
    from models.areas import Area
    from models.invitations import Invitation

    priya = await support.practitioner()  # Brimbank City Council
    aroha = await support.practitioner("Aroha Ngata", "aroha.ngata@brimbank.example")
    wyndham = await support.organisation(
        "Wyndham City Council", "wyndham.example", area_code="LGA27260"
    )
    tom = await support.practitioner("Tom Walsh", "tom.walsh@wyndham.example", wyndham)
    state = await support.practitioner("Sue Park", "sue.park@brimbank.example", role="state_admin")
    district = await Area.get(code="AU-VIC-D03")  # Brimbank Melton
    grace = await support.practitioner(
        "Grace Okafor", "grace.okafor@brimbank.example", role="local_admin", admin_areas=[district]
    )
    melton = await support.council("LGA24650")
    expires = clock.now() + timedelta(days=14)
    made = {}
    for name, sender, where in (
        ("priya", priya, priya.organisation_id),  # type: ignore[attr-defined]
        ("aroha", aroha, None),
        ("tom", tom, wyndham.id),
        ("self", None, priya.organisation_id),  # type: ignore[attr-defined]
    ):
        made[name] = await Invitation.create(
            email=f"{name}@example.org",
            token_hash=name * 8,
            invited_by=sender,
            organisation_id=where,
            expires_at=expires,
        )
    # Tom invites someone to the team of a client in Melton: in Grace's district.
    made["team"] = await Invitation.create(
        email="team@example.org",
        token_hash="team" * 8,
        invited_by=tom,
        organisation_id=wyndham.id,
        client=await support.client("Ivy", area=melton),
        expires_at=expires,
    )

    async def managed(who) -> set[str]:
        councils = await administered_council_ids(who)
        found = await Invitation.filter(access.invitations_managed_by(who, councils))
        return {i.email.split("@")[0] for i in found}

    assert await managed(priya) == {"priya"}
    assert await managed(tom) == {"tom", "team"}
    assert await managed(state) == {"priya", "aroha", "tom", "team"}
    # Grace: her own (wherever they are), and those naming an organisation or client in her
    # district.
    await Invitation.create(
        email="grace@example.org",
        token_hash="grace" * 8,
        invited_by=grace,
        organisation_id=wyndham.id,
        expires_at=expires,
    )
    assert await managed(grace) == {"priya", "team", "grace"}
    assert await administered_council_ids(priya) == []
    assert await administered_council_ids(state) is None
    assert sorted(await administered_council_ids(grace) or []) == sorted(
        await Area.filter(parent_id=district.id).values_list("id", flat=True)
    )
    # One council alone, a district and a council elsewhere, the state, then nothing.
    brimbank, wyndham_council = await support.council(), await support.council("LGA27260")
    await AdminArea.filter(practitioner=grace).delete()
    await AdminArea.create(practitioner=grace, area=brimbank)
    assert await administered_council_ids(grace) == [brimbank.id]
    await AdminArea.create(practitioner=grace, area=district)
    await AdminArea.create(practitioner=grace, area=wyndham_council)
    district_councils = await Area.filter(parent_id=district.id).values_list("id", flat=True)
    assert await administered_council_ids(grace) == sorted({*district_councils, wyndham_council.id})
    await AdminArea.create(practitioner=grace, area=await Area.get(kind="state"))
    assert await administered_council_ids(grace) is None
    await AdminArea.filter(practitioner=grace).delete()
    assert await administered_council_ids(grace) == []
    grace.role = "practitioner"
    await AdminArea.create(practitioner=grace, area=district)
    assert await administered_council_ids(grace) == []


async def test_a_reference_proves_one_client_was_shown_to_one_practitioner_for_two_hours(db):
    key = "test-secret-key-that-is-long-enough-for-tests"
    ref = references.client_reference(key, 1, 2)
    assert references.reference_is_valid(key, ref, 1, 2)
    assert not references.reference_is_valid(key, ref, 3, 2)  # another practitioner
    assert not references.reference_is_valid(key, ref, 1, 3)  # another client
    assert not references.reference_is_valid(key, ref, 2, 1)
    assert not references.reference_is_valid("another-secret-key-just-as-long-as-that", ref, 1, 2)
    assert not references.reference_is_valid(key, "garbage", 1, 2)
    assert not references.reference_is_valid(key, "", 1, 2)
    assert "1" not in ref.split(".")[0] or ref.split(".")[0] == "shown"  # says nothing
    assert ref.startswith("shown.")
    _, minted_at = references._signer(key, 1, 2).unsign(ref, return_timestamp=True)

    def aged(seconds: int) -> timedelta:
        """The shift that makes the reference exactly `seconds` old (whole seconds)."""
        return minted_at + timedelta(seconds=seconds + 0.5) - clock.now()

    with clock.shifted(aged(2 * 3600)):
        assert references.reference_is_valid(key, ref, 1, 2)
    with clock.shifted(aged(2 * 3600 + 1)):
        assert not references.reference_is_valid(key, ref, 1, 2)
    url = references.join_url(key, 1, 2)
    assert url.startswith("/clients/2/join?ref=shown.")
    from urllib.parse import parse_qs, urlsplit

    [minted] = parse_qs(urlsplit(url).query)["ref"]
    assert references.reference_is_valid(key, minted, 1, 2)
    assert not references.reference_is_valid(key, minted, 2, 2)
