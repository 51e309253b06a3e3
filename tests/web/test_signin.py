"""Signing in by emailed link: one answer for everyone, single use, 15 minutes, rate limits."""

from __future__ import annotations

from datetime import timedelta

from models.audit import AuditEvent
from models.auth import Session, SignInToken
from models.notifications import Outbox
from tests import support
from tests.web.helpers import csrf_token, sign_in
from web import worker
from web.auth import now, token_hash

PRIYA = "priya.nair@brimbank.example"


async def ask_for_link(client, email: str, **headers):
    token = await csrf_token(client)
    return await client.post("/signin", data={"email": email, "csrf_token": token}, headers=headers)


async def test_known_and_unknown_addresses_get_the_same_answer(client):
    await support.practitioner()
    known = await ask_for_link(client, "Priya.Nair@Brimbank.example ")
    unknown = await ask_for_link(client, "stranger@brimbank.example")
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("priya.nair", "X") == unknown.text.replace("stranger", "X")
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
    from web.signin import create_signin_token

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


async def test_sign_in_requests_are_limited_per_address(client, settings):
    await support.practitioner()
    for _ in range(settings.signin_rate_per_hour):
        assert (await ask_for_link(client, PRIYA)).status_code == 200
    refused = await ask_for_link(client, PRIYA)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "3600"
    assert "Too many sign-in requests" in refused.text
    assert await Outbox.all().count() == settings.signin_rate_per_hour
    assert await AuditEvent.filter(action="signin.refused").count() == 1
    # Another address from the same place is still fine.
    assert (await ask_for_link(client, "someone@else.example")).status_code == 200


async def test_sign_in_requests_are_limited_per_client_ip(client):
    from web.signin import SIGNIN_PER_IP_PER_HOUR

    for n in range(SIGNIN_PER_IP_PER_HOUR):
        response = await ask_for_link(client, f"person{n}@brimbank.example")
        assert response.status_code == 200
    assert (await ask_for_link(client, "one.more@brimbank.example")).status_code == 429


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
    from web.signin import create_signin_token

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
