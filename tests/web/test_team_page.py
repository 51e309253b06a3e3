"""The team page and its actions; discreet members appear nowhere to anyone else."""

from __future__ import annotations

import gzip
import re
from datetime import timedelta

from itsdangerous import URLSafeTimedSerializer

from models.attentions import Attention, AttentionSeen
from models.circles import CircleLink, ordered_pair
from models.notifications import Notification, Outbox, PushSubscription
from models.teams import Membership
from tests import support
from tests.support import count_queries
from tests.web.helpers import csrf_token, sign_in
from web.core import clock

SAM_TRACES = (
    "Sam Lee",
    "sam.lee",
    "westsiderecovery",
    "Westside",
    "5550 4567",
    "5550 4567".replace(" ", ""),
    "570 159",
    "0491570159",
    "Clinician",
)


async def test_the_team_tab_shows_how_to_reach_each_visible_member(client):
    priya, aroha, _sam, mia = await support.thompson_team()
    await sign_in(client, priya)
    html = (await client.get(f"/clients/{mia.id}")).text
    assert "Mia Thompson" in html and "Brimbank" in html and "also known as Mimi" in html
    assert 'href="tel:0355503456"' in html and 'href="mailto:aroha.ngata@dffh.example"' in html
    assert 'href="tel:0491570156"' in html
    assert "Last contact 3 days ago" in html and "Last contact not recorded" in html
    started = (clock.now() - timedelta(days=400)).astimezone(clock.zone()).strftime("%B %Y")
    assert f"on the team since {started}" in html
    assert 'href="mailto:aroha.ngata@dffh.example"' in html
    assert re.search(
        r'<a class="button" href="mailto:aroha\.ngata@dffh\.example">.*Email the whole team', html
    )


async def test_the_team_page_takes_four_queries_and_stays_small_with_thirty_members(client):
    priya = await support.practitioner()
    mia = await support.client()
    await support.member(mia, priya)
    for n in range(29):
        colleague = await support.practitioner(
            f"Colleague Number{n}", f"colleague{n}@brimbank.example", mobile="0491 570 110"
        )
        await support.member(mia, colleague)
    await sign_in(client, priya)
    await client.get("/")  # the session's last-seen time is fresh: no write on the next request
    with count_queries() as counted:
        response = await client.get(f"/clients/{mia.id}")
    assert response.text.count('class="card member-card"') == 30
    assert len(counted.queries) <= 4, counted.queries
    # Each card's call and email buttons carry an icon and a name for screen readers: about
    # 1.2 KB a card as HTML, a few bytes once gzip has seen the first (as browsers fetch it).
    assert len(response.content) < 48 * 1024, len(response.content)
    assert len(gzip.compress(response.content, compresslevel=6)) < 8 * 1024


async def test_contact_today_updates_last_contact(client):
    priya, _aroha, _sam, mia = await support.thompson_team()
    await sign_in(client, priya)
    token = await csrf_token(client, f"/clients/{mia.id}")
    response = await client.post(f"/clients/{mia.id}/contact", data={"csrf_token": token})
    assert response.status_code == 303
    mine = await Membership.get(client=mia, practitioner=priya)
    assert mine.last_contact_on == clock.today()
    assert "Your contact today is recorded" in (await client.get(response.headers["location"])).text


async def test_a_meeting_invitation_goes_to_every_visible_member_as_ics(client, settings):
    priya, aroha, sam, mia = await support.thompson_team()
    await sign_in(client, priya)
    token = await csrf_token(client, f"/clients/{mia.id}/meeting")
    bad = await client.post(
        f"/clients/{mia.id}/meeting",
        data={"date": "2001-01-01", "time": "x", "minutes": "7", "place": "", "csrf_token": token},
    )
    assert bad.status_code == 422 and await Outbox.all().count() == 0
    day = (clock.today() + timedelta(days=7)).isoformat()
    response = await client.post(
        f"/clients/{mia.id}/meeting",
        data={
            "date": day,
            "time": "14:30",
            "minutes": "60",
            "place": "Sunshine MCH Centre, room 2",
            "agenda": "Plan the next month",
            "csrf_token": token,
        },
    )
    assert response.status_code == 303
    mails = await Outbox.all()
    # Sam (discreet) gets a copy of the same invitation, which lists only those visible.
    assert sorted(m.recipient for m in mails) == sorted([priya.email, aroha.email, sam.email])
    assert len({m.attachments[0]["content"] for m in mails}) == 1
    ics = mails[0].attachments[0]["content"].replace("\r\n ", "")  # unfold long lines
    assert "BEGIN:VEVENT" in ics and "METHOD:REQUEST" in ics and "\r\n" in ics
    assert "LOCATION:Sunshine MCH Centre\\, room 2" in ics
    # Patchwork organises every meeting, so a discreet organiser's looks the same.
    assert "ORGANIZER:mailto:patchwork@test.example" in ics
    assert f"mailto:{priya.email}" in ics
    assert f"mailto:{aroha.email}" in ics and "DTSTART:" in ics
    for mail in mails:
        for secret in ("Mia", "Thompson", "Priya", "Aroha", *SAM_TRACES):
            assert secret not in mail.body and secret not in mail.attachments[0]["content"]


async def test_a_discreet_organiser_stays_out_of_the_invitation(client):
    _priya, aroha, sam, mia = await support.thompson_team()
    await sign_in(client, sam)
    token = await csrf_token(client, f"/clients/{mia.id}/meeting")
    day = (clock.today() + timedelta(days=3)).isoformat()
    await client.post(
        f"/clients/{mia.id}/meeting",
        data={
            "date": day,
            "time": "09:00",
            "minutes": "30",
            "place": "Online",
            "csrf_token": token,
        },
    )
    mails = await Outbox.all()
    assert sam.email in {m.recipient for m in mails}  # Sam gets a copy
    for mail in mails:
        ics = mail.attachments[0]["content"].replace("\r\n ", "")
        assert "sam.lee" not in ics and f"mailto:{aroha.email}" in ics


async def test_inviting_a_colleague_on_patchwork_sends_an_alert(client):
    priya, _aroha, _sam, mia = await support.thompson_team()
    tom = await support.practitioner("Tom Walsh", "tom.walsh@wyndham.example")
    await sign_in(client, priya)
    token = await csrf_token(client, f"/clients/{mia.id}/invite")
    already = await client.post(
        f"/clients/{mia.id}/invite", data={"email": "aroha.ngata@dffh.example", "csrf_token": token}
    )
    assert already.status_code == 422 and "already on this team" in already.text
    response = await client.post(
        f"/clients/{mia.id}/invite",
        data={"email": "Tom.Walsh@wyndham.example", "csrf_token": token},
    )
    assert response.status_code == 303
    assert await Notification.filter(
        practitioner=tom, kind="invited_to_team", client_id=mia.id
    ).exists()
    [mail] = await Outbox.filter(recipient=tom.email)
    assert "/notifications" in mail.body and "Mia" not in mail.body


async def test_a_join_code_leads_a_colleague_to_the_join_confirmation(client, settings):
    priya, _aroha, _sam, mia = await support.thompson_team()
    tom = await support.practitioner("Tom Walsh", "tom.walsh@wyndham.example")
    await sign_in(client, priya)
    page = await client.get(f"/clients/{mia.id}/join-code")
    assert page.status_code == 200 and "<svg" in page.text
    url = re.search(r'<p class="link-text">([^<]+)</p>', page.text).group(1)
    client.cookies.clear()
    await sign_in(client, tom)
    scanned = await client.get(url.replace("http://testserver", ""))
    assert scanned.status_code == 303
    assert scanned.headers["location"].startswith(f"/clients/{mia.id}/join?ref=")
    assert "Join the team for Mia Thompson" in (await client.get(scanned.headers["location"])).text

    # The old kind of code, a signed payload naming the client, means nothing any more.
    forged = URLSafeTimedSerializer(settings.secret_key, salt="patchwork-join-code")
    assert (await client.get(f"/join/{forged.dumps({'client': mia.id})}")).status_code == 404
    with clock.shifted(timedelta(minutes=11)):
        assert (await client.get(url.replace("http://testserver", ""))).status_code == 410


async def test_history_shows_who_was_involved_when_newest_first(client):
    priya, aroha, sam, mia = await support.thompson_team()
    tom = await support.practitioner("Tom Walsh", "tom.walsh@wyndham.example")
    await support.member(
        mia,
        tom,
        started_at=clock.now() - timedelta(days=300),
        ended_at=clock.now() - timedelta(days=100),
        end_reason="transferred",
    )
    await Attention.create(client=mia, raised_by=aroha, text="Missed two appointments")
    await Attention.create(client=mia, raised_by=sam, text="Please call me")
    await sign_in(client, priya)
    html = (await client.get(f"/clients/{mia.id}/history")).text
    assert "Tom Walsh</strong> left the team (transferred)" in html
    assert "Aroha Ngata</strong> raised an attention: Missed two appointments" in html
    assert "A team member</strong> raised an attention: Please call me" in html
    assert html.index("Please call me") < html.index("Tom Walsh</strong> left")  # newest first


async def test_a_discreet_member_appears_nowhere_to_anyone_else(client):
    """Sam, discreet on Mia's and Leo's teams (linked in a circle), acts: an attention he
    raised named before going discreet, one raised now, contact, a check-in, seeing and
    acknowledging. Priya and Aroha then load every tab of Mia's team (and Priya Leo's), their
    dashboard, search and notifications, as pages and as htmx fragments, and act on them:
    every request succeeds, and no page, count, email or push shows a trace of Sam."""
    priya, aroha, sam, _tom, mia, leo = await support.thompson_siblings()
    await support.member(leo, sam, discreet=True)
    a, b, relationship = ordered_pair(mia.id, leo.id, "sibling")
    await CircleLink.create(client_a_id=a, client_b_id=b, relationship=relationship)
    # Raised with his name while he was visible; he is discreet again now.
    earlier = await Attention.create(client=mia, raised_by=sam, text="Please call me")
    await AttentionSeen.create(attention=earlier, practitioner=sam, acknowledged_at=clock.now())
    await PushSubscription.create(
        practitioner=priya, endpoint="http://127.0.0.1:9/push/priya", p256dh="BAAA", auth="AAAA"
    )
    await sign_in(client, sam)
    token = await csrf_token(client, f"/clients/{mia.id}")
    for path, data in (
        (f"/clients/{mia.id}/attentions", {"text": "Please ring the family"}),
        (f"/clients/{mia.id}/contact", {}),
        (f"/clients/{mia.id}/checkin", {}),
    ):
        response = await client.post(path, data={**data, "csrf_token": token})
        assert response.status_code == 303, (path, response.text)
    assert await Notification.filter(practitioner=priya, kind="attention_raised").count() == 1
    day = (clock.today() + timedelta(days=7)).isoformat()
    invitees = {priya.id: "tom.walsh@wyndham.example", aroha.id: "nina.new@dffh.example"}
    await support.practitioner("Tom Walsh", "tom.walsh@wyndham.example")
    for viewer in (priya, aroha):
        client.cookies.clear()
        await sign_in(client, viewer)
        tabs = ("", "/history", "/attentions", "/circle", "/checkin", "/meeting", "/invite")
        paths = [f"/clients/{mia.id}{tab}" for tab in (*tabs, "/join-code", "/leave")]
        if viewer == priya:  # on Leo's team too
            paths += [f"/clients/{leo.id}", f"/clients/{leo.id}/circle"]
        paths += ["/", "/clients/search?q=mia+thompson", "/notifications", "/notifications/badge"]
        for path in paths:
            for headers in ({}, {"HX-Request": "true"}):
                page = await client.get(path, headers=headers)
                assert page.status_code == 200, (viewer.name, path, headers, page.status_code)
                for secret in SAM_TRACES:
                    assert secret not in page.text, (viewer.name, path, secret)
                # Counts are of the visible team: Sam's view and Sam himself never count.
                for seen, of in re.findall(r"seen by (\d+) of (\d+)", page.text):
                    assert int(seen) <= int(of) == 2, (viewer.name, path)
                assert "3 team members" not in page.text, (viewer.name, path)
        token = await csrf_token(client, f"/clients/{mia.id}")
        for path, data in (
            (
                f"/clients/{mia.id}/meeting",
                {"date": day, "time": "10:00", "minutes": "30", "place": "Online"},
            ),
            (f"/clients/{mia.id}/invite", {"email": invitees[viewer.id]}),
            (f"/clients/{mia.id}/attentions", {"text": f"Update from {viewer.name}"}),
            (f"/clients/{mia.id}/attentions/{earlier.id}/acknowledge", {}),
            (f"/clients/{mia.id}/contact", {}),
        ):
            response = await client.post(path, data={**data, "csrf_token": token})
            assert response.status_code == 303, (viewer.name, path, response.text)
        attentions = await client.get(f"/clients/{mia.id}/attentions")
        assert "Raised by A team member" in attentions.text
        for secret in SAM_TRACES:
            assert secret not in attentions.text
    assert await Outbox.filter(recipient=sam.email).exists()  # Sam is told, never shown
    others = await Outbox.exclude(recipient=sam.email)
    assert {m.channel for m in others} == {"email", "push"} and len(others) >= 6
    for mail in others:
        for secret in SAM_TRACES:
            assert secret not in mail.subject and secret not in mail.body
            for attachment in mail.attachments:
                assert secret not in attachment["content"]


async def test_a_sensitive_member_can_become_visible_and_discreet_again(client):
    priya, _aroha, sam, mia = await support.thompson_team()
    await sign_in(client, sam)
    page = (await client.get(f"/clients/{mia.id}")).text
    assert "only you can see this card" in page
    # An attention raised while discreet stays unattributed after Sam becomes visible.
    token = await csrf_token(client, f"/clients/{mia.id}")
    raised = await client.post(
        f"/clients/{mia.id}/attentions", data={"text": "Please call me", "csrf_token": token}
    )
    assert raised.status_code == 303
    # Asking first: the confirmation says what the team will and will not see.
    unconfirmed = await client.post(
        f"/clients/{mia.id}/visibility", data={"discreet": "no", "csrf_token": token}
    )
    assert unconfirmed.status_code == 303
    assert unconfirmed.headers["location"] == f"/clients/{mia.id}/visibility"
    assert (await Membership.get(practitioner=sam)).discreet
    confirm = await client.get(f"/clients/{mia.id}/visibility")
    assert confirm.status_code == 200
    assert "What the team will see" in confirm.text and "What stays hidden" in confirm.text
    done = await client.post(
        f"/clients/{mia.id}/visibility",
        data={"discreet": "no", "confirmed": "yes", "csrf_token": token},
    )
    assert done.status_code == 303
    membership = await Membership.get(practitioner=sam)
    assert not membership.discreet and membership.visible_since is not None
    # The team is told someone joined (as for any join), and nothing earlier names Sam.
    told = await Notification.filter(practitioner=priya, kind="joined")
    assert len(told) == 1 and told[0].actor_id == sam.id
    client.cookies.clear()
    await sign_in(client, priya)
    team = (await client.get(f"/clients/{mia.id}")).text
    assert "Sam Lee" in team
    # As any join reads: contact today, not a date (or "not recorded") from discreet days.
    sams_card = team.split("Sam Lee", 1)[1].split("</article>", 1)[0]
    assert "Last contact today" in sams_card, sams_card
    history = (await client.get(f"/clients/{mia.id}/history")).text
    assert "Sam Lee" in history
    assert "A team member</strong> raised an attention: Please call me" in history
    attentions = (await client.get(f"/clients/{mia.id}/attentions")).text
    assert "Raised by A team member" in attentions
    client.cookies.clear()
    await sign_in(client, sam)
    token = await csrf_token(client, f"/clients/{mia.id}")
    again = await client.post(
        f"/clients/{mia.id}/visibility",
        data={"discreet": "yes", "confirmed": "yes", "csrf_token": token},
    )
    assert again.status_code == 303
    # To the team, becoming discreet again is leaving (tests/web/test_two_worlds_going_discreet.py
    # proves it reads exactly so): the visible membership ends, a discreet one goes on.
    ended = await Membership.get(practitioner=sam, ended_at__isnull=False)
    assert not ended.discreet and ended.end_reason == "other"
    membership = await Membership.get(practitioner=sam, ended_at__isnull=True)
    assert membership.discreet and membership.visible_since is None
    client.cookies.clear()
    await sign_in(client, priya)
    assert "Sam Lee" not in (await client.get(f"/clients/{mia.id}")).text
    history = (await client.get(f"/clients/{mia.id}/history")).text
    assert "Sam Lee" in history and "left the team (other reason)" in history


async def test_a_member_from_an_ordinary_service_cannot_be_discreet(client):
    priya, _aroha, _sam, mia = await support.thompson_team()
    await sign_in(client, priya)
    token = await csrf_token(client, f"/clients/{mia.id}")
    response = await client.post(
        f"/clients/{mia.id}/visibility",
        data={"discreet": "yes", "confirmed": "yes", "csrf_token": token},
    )
    assert response.status_code == 403
    assert (await client.get(f"/clients/{mia.id}/visibility")).status_code == 403
    assert not (await Membership.get(practitioner=priya)).discreet


async def test_a_discreet_member_is_told_what_the_team_will_see_before_acting(client):
    priya, _aroha, sam, mia = await support.thompson_team()
    forms = ("attentions", "meeting", "invite")
    await sign_in(client, sam)
    for form in forms:
        page = await client.get(f"/clients/{mia.id}/{form}")
        assert page.status_code == 200
        assert "You are on this team discreetly." in page.text, form
    client.cookies.clear()
    await sign_in(client, priya)
    for form in forms:
        page = await client.get(f"/clients/{mia.id}/{form}")
        assert page.status_code == 200
        assert "You are on this team discreetly." not in page.text, form


async def test_becoming_visible_shows_nothing_from_the_discreet_time(client):
    """Contact, check-in and views from while Sam was discreet stay out of what the team sees."""
    priya, aroha, sam, mia = await support.thompson_team()
    await sign_in(client, aroha)
    token = await csrf_token(client, f"/clients/{mia.id}")
    raised = await client.post(
        f"/clients/{mia.id}/attentions", data={"text": "Call me", "csrf_token": token}
    )
    assert raised.status_code == 303
    client.cookies.clear()
    await sign_in(client, sam)
    token = await csrf_token(client, f"/clients/{mia.id}")
    assert (await client.get(f"/clients/{mia.id}/attentions")).status_code == 200
    contact = await client.post(f"/clients/{mia.id}/contact", data={"csrf_token": token})
    assert contact.status_code == 303
    old = clock.now() - timedelta(days=200)
    await Membership.filter(practitioner=sam).update(last_confirmed_at=old)
    with clock.shifted(timedelta(days=2)):
        client.cookies.clear()
        await sign_in(client, sam)
        token = await csrf_token(client, f"/clients/{mia.id}")
        shown = await client.post(
            f"/clients/{mia.id}/visibility",
            data={"discreet": "no", "confirmed": "yes", "csrf_token": token},
        )
        assert shown.status_code == 303
        client.cookies.clear()
        await sign_in(client, priya)
        team = (await client.get(f"/clients/{mia.id}")).text
        card = team[team.index("Sam Lee") :]
        card = card[: card.index("</article>")]
        assert "Last contact today" in card  # as any join: not a date from discreet days
        assert "Not confirmed since" not in card
        attentions = (await client.get(f"/clients/{mia.id}/attentions")).text
        # Aroha and Priya have seen it; Sam's view from while discreet does not count.
        assert "seen by 2 of 3" in attentions
        client.cookies.clear()
        await sign_in(client, sam)
        assert (await client.get(f"/clients/{mia.id}/attentions")).status_code == 200
        client.cookies.clear()
        await sign_in(client, priya)
        assert "seen by 3 of 3" in (await client.get(f"/clients/{mia.id}/attentions")).text
