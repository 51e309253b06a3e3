"""Signing in by emailed link: one answer for everyone, single use, 15 minutes, rate limits."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx

from models.audit import AuditEvent
from models.auth import Session, SignInToken
from models.notifications import Outbox
from tests import support
from tests.web.helpers import csrf_token, sign_in, without_csrf
from web.alerts import worker
from web.app import create_app
from web.core import clock
from web.core.auth import now, token_hash
from web.core.signins import LINK_LIFETIME

PRIYA = "priya.nair@brimbank.example"


async def ask_for_link(client, email: str, **headers):
    token = await csrf_token(client)
    return await client.post("/signin", data={"email": email, "csrf_token": token}, headers=headers)


async def test_known_and_unknown_addresses_get_the_same_answer(client):
    await support.practitioner()
    known = await ask_for_link(client, "Priya.Nair@Brimbank.example ")
    unknown = await ask_for_link(client, "stranger@brimbank.example")
    assert known.status_code == unknown.status_code == 200
    assert without_csrf(known.text).replace("priya.nair", "X") == without_csrf(
        unknown.text
    ).replace("stranger", "X")
    assert await Outbox.all().count() == 1  # only the known address is emailed


async def test_the_link_arrives_by_smtp_and_signs_in_once(client, settings, smtp):
    priya = await support.practitioner()
    await ask_for_link(client, PRIYA)
    assert await worker.deliver_due(settings) == 1
    [message] = await smtp.mailbox.wait_for(PRIYA)
    link = support.link_in(message)
    assert link.startswith("http://testserver/signin/link?token=")
    token = link.split("token=")[1]
    assert await SignInToken.filter(token_hash=token).count() == 0  # only the hash is stored

    confirm = await client.get(link)
    assert confirm.status_code == 200 and "Sign in to Patchwork" in confirm.text
    assert await SignInToken.filter(used_at__isnull=False).count() == 0  # opening it spends nothing

    form = {"token": token, "csrf_token": await csrf_token(client)}
    first = await client.post("/signin/link", data=form)
    assert first.status_code == 303 and first.headers["location"] == "/"
    cookie = first.cookies.get(settings.session_cookie)
    assert cookie and len(cookie) >= 32  # 256 bits, base64url
    set_cookie = first.headers["set-cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
    assert await Session.filter(practitioner=priya, token_hash=token_hash(cookie)).exists()

    client.cookies.clear()
    again = await client.post("/signin/link", data={**form, "csrf_token": await csrf_token(client)})
    assert again.status_code == 400
    assert "expired or was already used" in again.text
    actions = [e.action for e in await AuditEvent.all().order_by("id")]
    assert actions == ["signin.requested", "signin.succeeded", "signin.failed"]


async def test_an_expired_link_does_not_sign_in(client):
    priya = await support.practitioner()
    from web.core.signins import create_signin_token

    token = await create_signin_token(priya)
    await SignInToken.all().update(expires_at=now() - timedelta(seconds=1))
    response = await client.post(
        "/signin/link", data={"token": token, "csrf_token": await csrf_token(client)}
    )
    assert response.status_code == 400
    assert await Session.all().count() == 0


async def test_a_deactivated_practitioner_gets_no_link_and_loses_sessions(client, settings):
    priya = await support.practitioner()
    await sign_in(client, priya)
    assert (await client.get("/")).status_code == 200
    priya.active = False
    await priya.save()
    assert (await client.get("/")).status_code == 303  # session no longer counts
    await ask_for_link(client, PRIYA)
    assert await Outbox.all().count() == 0


async def test_a_malformed_address_is_explained_with_422(client):
    response = await ask_for_link(client, "not an email")
    assert response.status_code == 422
    assert "There is a problem" in response.text
    assert 'aria-invalid="true"' in response.text
    assert await Outbox.all().count() == 0


@contextlib.asynccontextmanager
async def browser_at(settings, ip: str) -> AsyncIterator[httpx.AsyncClient]:
    """Another browser, at another client IP, on the same app."""
    transport = httpx.ASGITransport(app=create_app(settings), client=(ip, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def the_answer(client, email: str) -> str:
    """The page a sign-in request gets, with the address and this browser's CSRF token masked."""
    response = await ask_for_link(client, email)
    assert response.status_code == 200, response.text
    token = re.search(r'name="csrf-token" content="([^"]+)"', response.text).group(1)
    return response.text.replace(email, "EMAIL").replace(token, "TOKEN")


async def test_nobody_can_lock_a_colleague_out_of_email_sign_in(client, settings, smtp):
    """Requests for Priya's address from elsewhere cap the emails sent, never her answer: she
    is always told to check her email, and there is always a working link in it."""
    priya = await support.practitioner()
    cap = settings.signin_rate_per_hour
    async with browser_at(settings, "198.51.100.1") as stranger:
        stranger_answer = await the_answer(stranger, "stranger@brimbank.example")
    for n in range(20):
        async with browser_at(settings, f"198.51.100.{n + 10}") as attacker:
            assert await the_answer(attacker, PRIYA) == stranger_answer
    assert await Outbox.filter(recipient=PRIYA).count() == cap
    assert await AuditEvent.filter(action="signin.capped", actor_id=priya.id).count() == 20 - cap

    assert await the_answer(client, PRIYA) == stranger_answer  # Priya's own request
    assert await Outbox.filter(recipient=PRIYA).count() == cap  # her inbox holds live links
    assert await worker.deliver_due(settings) == cap
    newest = support.link_in((await smtp.mailbox.wait_for(PRIYA, count=cap))[-1])
    await use(client, newest, expect="/")

    # Each quarter of the hour, once every link has expired, one more is sent: no more.
    for quarter in (1, 2, 3):
        with clock.shifted(LINK_LIFETIME * quarter + timedelta(minutes=1)):
            for n in range(20):
                async with browser_at(settings, f"198.51.100.{n + 40}") as attacker:
                    await the_answer(attacker, PRIYA)
            assert await Outbox.filter(recipient=PRIYA).count() == cap + quarter
            live = await SignInToken.filter(
                email=PRIYA, used_at__isnull=True, expires_at__gt=clock.now()
            ).count()
            assert live == 1
    assert await Outbox.filter(recipient=PRIYA).count() <= cap + 60 // 15


async def test_past_the_cap_a_spent_link_is_replaced_at_once(client, settings):
    priya = await support.practitioner()
    for _ in range(settings.signin_rate_per_hour):
        await ask_for_link(client, PRIYA)
    await SignInToken.all().update(used_at=now())  # Priya used them (or they expired)
    assert (await ask_for_link(client, PRIYA)).status_code == 200
    assert await Outbox.filter(recipient=PRIYA).count() == settings.signin_rate_per_hour + 1
    assert (await ask_for_link(client, PRIYA)).status_code == 200  # that one is live: capped
    assert await Outbox.filter(recipient=PRIYA).count() == settings.signin_rate_per_hour + 1
    assert await AuditEvent.filter(action="signin.capped", actor_id=priya.id).count() == 1


async def test_signup_requests_for_an_existing_address_are_capped_alike(client, settings):
    await support.practitioner()
    for _ in range(settings.signin_rate_per_hour + 5):
        form = {"email": PRIYA, "csrf_token": await csrf_token(client, "/signup")}
        assert (await client.post("/signup", data=form)).status_code == 200
    assert await Outbox.filter(recipient=PRIYA).count() == settings.signin_rate_per_hour


async def use(client, link: str, expect: str) -> None:
    token = link.split("token=")[1]
    used = await client.post(
        "/signin/link", data={"token": token, "csrf_token": await csrf_token(client)}
    )
    assert used.status_code == 303 and used.headers["location"] == expect


AROHA = "aroha.ngata@dffh.example"


async def test_the_per_ip_limit_caps_emails_never_the_answer(client, settings, smtp):
    """One person at a clinic's shared address cannot lock their colleagues out: past
    SIGNIN_PER_IP_PER_HOUR requests from one IP, everyone there is still told to check their
    email, and a link is emailed to anyone who has no live one."""
    from web.signin.links import SIGNIN_PER_IP_PER_HOUR

    aroha = await support.practitioner("Aroha Ngata", AROHA)
    await support.practitioner()
    answers = [
        await the_answer(client, f"person{n}@brimbank.example")
        for n in range(SIGNIN_PER_IP_PER_HOUR)
    ]
    assert set(answers) == {answers[0]}

    assert await the_answer(client, AROHA) == answers[0]  # from the same IP, past its limit
    assert await Outbox.filter(recipient=AROHA).count() == 1
    assert await the_answer(client, AROHA) == answers[0]  # her link is live: no second email
    assert await Outbox.filter(recipient=AROHA).count() == 1
    assert await AuditEvent.filter(action="signin.capped", actor_id=aroha.id).count() == 1
    assert await the_answer(client, PRIYA) == answers[0]  # and Priya gets hers
    assert await Outbox.filter(recipient=PRIYA).count() == 1
    assert not await AuditEvent.filter(action="signin.refused").exists()

    assert await worker.deliver_due(settings) == 2
    await use(client, support.link_in((await smtp.mailbox.wait_for(AROHA))[0]), expect="/")
    assert await Session.filter(practitioner=aroha).count() == 1


async def test_a_locked_account_still_signs_in_by_an_emailed_link(client, settings, smtp):
    """The failed-sign-in lock stops passkey sign-ins only: an emailed link is a single-use
    secret, and the way to recover, so failures charged to the account never refuse it."""
    from web.core import ratelimit

    priya = await support.practitioner()
    for _ in range(ratelimit.ACCOUNT_FAILURES_PER_HOUR + 1):
        await ratelimit.record_failure(priya.id)
    assert await ratelimit.account_locked(priya.id)
    await ask_for_link(client, PRIYA)
    assert await worker.deliver_due(settings) == 1
    await use(client, support.link_in((await smtp.mailbox.wait_for(PRIYA))[0]), expect="/")
    assert await Session.filter(practitioner=priya, method="email").count() == 1
    assert not await AuditEvent.filter(action="signin.refused").exists()


async def test_signing_in_again_replaces_the_session_id(client, settings):
    priya = await support.practitioner()
    first = (await sign_in(client, priya)).cookies[settings.session_cookie]
    second = (await sign_in(client, priya)).cookies[settings.session_cookie]
    assert first != second
    assert await Session.filter(practitioner=priya).count() == 1


async def test_sign_out_ends_the_session_and_clears_site_data(client, settings):
    priya = await support.practitioner()
    await sign_in(client, priya)
    response = await client.post("/signout", data={"csrf_token": await csrf_token(client, "/")})
    assert response.status_code == 303
    assert response.headers["clear-site-data"] == '"cache", "cookies", "storage"'
    assert await Session.all().count() == 0
    assert (await client.get("/")).status_code == 303
    assert await AuditEvent.filter(action="signout", actor_id=priya.id).exists()


async def test_idle_and_absolute_timeouts_end_sessions(client, settings):
    priya = await support.practitioner()
    await sign_in(client, priya)
    await Session.all().update(
        last_seen_at=now() - timedelta(hours=settings.session_idle_hours, minutes=1)
    )
    assert (await client.get("/")).status_code == 303
    await sign_in(client, priya)
    await Session.all().update(
        created_at=now() - timedelta(days=settings.session_absolute_days, minutes=1)
    )
    assert (await client.get("/")).status_code == 303
    assert await Session.all().count() == 0


async def test_only_local_paths_follow_sign_in(client):
    priya = await support.practitioner()
    from web.core.signins import create_signin_token

    for next_path, expected in (
        ("/clients/5", "/clients/5"),
        ("//evil.example", "/"),
        ("https://evil.example", "/"),
    ):
        token = await create_signin_token(priya, next_path=next_path)
        response = await client.post(
            "/signin/link", data={"token": token, "csrf_token": await csrf_token(client)}
        )
        assert response.headers["location"] == expected
