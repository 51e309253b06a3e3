"""Signing in by emailed link (web/signin/links.py), rule by rule: the answer, the link, its
one use.

Written to kill the mutants `python -m tests --mutate web/signin/links.py` found surviving: what
each refusal stores (audit reason, failure count), what a link records, and the exact email."""

from __future__ import annotations

from datetime import timedelta

from models.audit import AuditEvent
from models.auth import RateLimitHit, Session, SignInToken
from models.notifications import Outbox
from tests import support
from tests.web.helpers import csrf_token, sign_in
from web.core import clock, ratelimit
from web.core import signins as signin
from web.core.auth import token_hash
from web.signin import links

PRIYA = "priya.nair@brimbank.example"


async def ask(client, email: str, **fields: str):
    form = {"email": email, "csrf_token": await csrf_token(client), **fields}
    return await client.post("/signin", data=form)


async def spend(client, token: str):
    return await client.post(
        "/signin/link", data={"token": token, "csrf_token": await csrf_token(client)}
    )


def test_an_address_is_compared_trimmed_and_in_lower_case():
    assert signin.normalise_email("  Priya.Nair@Brimbank.EXAMPLE \n") == PRIYA


def test_the_link_and_the_address_key():
    assert signin.signin_url("https://p.example", "a+b/c") == (
        "https://p.example/signin/link?token=a%2Bb%2Fc"
    )
    key = signin.address_key(PRIYA)
    assert key.startswith("signin:addr:") and len(key) == len("signin:addr:") + 32
    assert key != signin.address_key("aroha.ngata@dffh.example")
    assert PRIYA not in key


async def test_the_sign_in_page_keeps_a_local_next_and_says_when_you_signed_out(client):
    page = await client.get("/signin", params={"next": "/clients/5"})
    assert 'name="next" value="/clients/5"' in page.text
    assert "You have signed out." not in page.text
    unsafe = await client.get("/signin", params={"next": "//evil.example", "signed_out": "1"})
    assert 'name="next" value="/"' in unsafe.text
    assert "You have signed out." in unsafe.text


async def test_a_malformed_or_overlong_address_is_refused_with_what_was_typed(client):
    response = await ask(client, " Not An Email ", next="/clients/5")
    assert response.status_code == 422
    assert 'value="not an email"' in response.text
    assert 'name="next" value="/clients/5"' in response.text
    assert "Enter your work email address" in response.text
    longest = "a" * (254 - len("@brimbank.example")) + "@brimbank.example"
    assert (await ask(client, longest)).status_code == 200
    assert (await ask(client, "a" + longest)).status_code == 422
    assert await AuditEvent.filter(action="signin.requested").count() == 1


async def test_every_request_is_audited_saying_whether_the_address_is_known(client):
    priya = await support.practitioner()
    await ask(client, PRIYA)
    await ask(client, "stranger@brimbank.example")
    events = await AuditEvent.filter(action="signin.requested").order_by("id")
    assert [(e.actor_id, e.detail.get("known")) for e in events] == [
        (priya.id, True),
        (None, False),
    ]  # type: ignore[attr-defined]


async def test_the_email_is_urgent_and_holds_a_link_that_works_once_for_15_minutes(
    client, settings
):
    priya = await support.practitioner()
    before = clock.now()
    await ask(client, PRIYA, next="/clients/5")
    [email] = await Outbox.all()
    assert email.channel == "email" and email.recipient == PRIYA
    assert email.priority == 0  # ahead of queued alerts
    assert email.subject == "Your Patchwork sign-in link"
    assert "It works once, for the next 15 minutes" in email.body
    [token] = [w.split("token=")[1] for w in email.body.split() if "/signin/link?token=" in w]
    assert f"{settings.base_url}/signin/link?token={token}" in email.body
    [record] = await SignInToken.all()
    assert record.token_hash == token_hash(token)
    assert record.email == PRIYA and record.practitioner_id == priya.id  # type: ignore[attr-defined]
    assert record.next_path == "/clients/5" and record.purpose == "signin"
    assert record.used_at is None
    assert before <= record.created_at <= clock.now()
    assert record.expires_at - record.created_at == timedelta(minutes=15)

    with clock.shifted(timedelta(minutes=14)):
        used = await spend(client, token)
    assert used.status_code == 303 and used.headers["location"] == "/clients/5"
    assert (await SignInToken.get()).used_at is not None


async def test_a_link_is_refused_a_minute_after_it_expires(client):
    priya = await support.practitioner()
    token = await signin.create_signin_token(priya)
    with clock.shifted(timedelta(minutes=16)):
        assert (await spend(client, token)).status_code == 400
    assert (await SignInToken.get()).used_at is None
    assert await Session.all().count() == 0


async def test_each_refused_link_is_audited_and_counted_against_its_account(client):
    priya = await support.practitioner()
    token = await signin.create_signin_token(priya)
    unknown = await spend(client, "no-such-token")
    assert unknown.status_code == 400
    assert 'name="email" value=""' in unknown.text or 'value=""' in unknown.text
    assert await RateLimitHit.filter(key__startswith="signin:fail").count() == 0
    assert (await spend(client, token)).status_code == 303
    client.cookies.clear()
    again = await spend(client, token)
    assert again.status_code == 400
    assert "expired or was already used" in again.text
    assert f'value="{PRIYA}"' in again.text  # the address, to ask for a new link at once
    failed = await AuditEvent.filter(action="signin.failed").order_by("id")
    assert [(e.actor_id, e.detail) for e in failed] == [  # type: ignore[attr-defined]
        (None, {"method": "email", "reason": "unknown token"}),
        (priya.id, {"method": "email", "reason": "expired, used or inactive"}),
    ]
    assert await RateLimitHit.filter(key=f"signin:fail:{priya.id}").count() == 1
    # Failures never lock an account out of its emailed links (the way to recover).
    for _ in range(ratelimit.ACCOUNT_FAILURES_PER_HOUR):
        await ratelimit.record_failure(priya.id)
    assert (await spend(client, await signin.create_signin_token(priya))).status_code == 303


async def test_a_link_of_a_deactivated_account_or_another_purpose_signs_nobody_in(client):
    priya = await support.practitioner()
    token = await signin.create_signin_token(priya)
    await SignInToken.all().update(purpose="other")
    assert (await spend(client, token)).status_code == 400
    assert (await AuditEvent.get(action="signin.failed")).detail["reason"] == "unknown token"
    token = await signin.create_signin_token(priya)
    priya.active = False
    await priya.save()
    assert (await spend(client, token)).status_code == 400
    assert await Session.all().count() == 0


async def test_a_successful_sign_in_is_audited_with_its_method(client):
    priya = await support.practitioner()
    await sign_in(client, priya)
    event = await AuditEvent.get(action="signin.succeeded")
    assert event.actor_id == priya.id and event.detail == {"method": "email"}  # type: ignore[attr-defined]
    assert (await Session.get()).method == "email"


async def test_past_the_cap_only_a_live_link_of_the_same_account_holds_the_email_back(
    client, settings
):
    priya = await support.practitioner()
    aroha = await support.practitioner("Aroha Ngata", "aroha.ngata@brimbank.example")
    for _ in range(settings.signin_rate_per_hour):
        await ratelimit.hit(signin.address_key(PRIYA), settings.signin_rate_per_hour)
    await signin.create_signin_token(aroha)  # someone else's live link
    spent = await signin.create_signin_token(priya)
    await SignInToken.filter(token_hash=token_hash(spent)).update(used_at=clock.now())
    await signin.create_signin_token(priya)
    await SignInToken.filter(practitioner_id=priya.id, used_at__isnull=True).update(
        expires_at=clock.now() - timedelta(seconds=1)
    )
    other = await signin.create_signin_token(priya)
    await SignInToken.filter(token_hash=token_hash(other)).update(purpose="other")
    await ask(client, PRIYA)
    assert await Outbox.filter(recipient=PRIYA).count() == 1  # none of those was live
    await ask(client, PRIYA)
    assert await Outbox.filter(recipient=PRIYA).count() == 1  # the one just sent is
    [capped] = await AuditEvent.filter(action="signin.capped")
    assert capped.actor_id == priya.id  # type: ignore[attr-defined]
    assert capped.detail == {"reason": "address limit, link live"}


async def test_past_the_ip_limit_a_live_link_holds_the_email_back_for_that_reason(client):
    priya = await support.practitioner()
    for _ in range(links.SIGNIN_PER_IP_PER_HOUR):
        await ratelimit.hit("signin:ip:203.0.113.7", links.SIGNIN_PER_IP_PER_HOUR)
    await ask(client, PRIYA)
    assert await Outbox.filter(recipient=PRIYA).count() == 1  # no live link yet: sent
    assert await RateLimitHit.filter(key=signin.address_key(PRIYA)).count() == 0
    await ask(client, PRIYA)
    assert await Outbox.filter(recipient=PRIYA).count() == 1
    [capped] = await AuditEvent.filter(action="signin.capped")
    assert capped.actor_id == priya.id  # type: ignore[attr-defined]
    assert capped.detail == {"reason": "ip limit, link live"}


async def test_the_emailed_page_carries_the_token_cut_to_100_characters(client):
    page = await client.get("/signin/link", params={"token": "t" * 150})
    assert page.status_code == 200
    assert f'value="{"t" * 100}"' in page.text and "t" * 101 not in page.text


async def test_signing_out_without_a_session_still_clears_the_browser(client, settings):
    await client.get("/signin")
    response = await client.post("/signout", data={"csrf_token": await csrf_token(client)})
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?signed_out=1"
    assert response.headers["clear-site-data"] == '"cache", "cookies", "storage"'
    assert f"{settings.session_cookie}=; " in response.headers["set-cookie"]
    assert "Max-Age=0" in response.headers["set-cookie"]
    assert await AuditEvent.all().count() == 0


async def test_signing_out_ends_only_this_browsers_session(client, settings):
    priya = await support.practitioner()
    await sign_in(client, priya)
    client.cookies.clear()
    await sign_in(client, priya)
    response = await client.post("/signout", data={"csrf_token": await csrf_token(client, "/")})
    assert response.status_code == 303
    assert await Session.filter(practitioner_id=priya.id).count() == 1
    event = await AuditEvent.get(action="signout")
    assert event.actor_id == priya.id  # type: ignore[attr-defined]


# -- the exact words, rows and headers ----------------------------------------------------

NO_LINK = (
    '<li><a href="#email">That sign-in link has expired or was already used. '
    "Enter your email to get a new one.</a></li>"
)


def test_an_address_fits_when_shaped_like_one_and_at_most_254_characters():
    longest = "a" * (signin.MAX_EMAIL_LENGTH - len("@brimbank.example")) + "@brimbank.example"
    assert len(longest) == 254 and signin.valid_email(longest)
    assert not signin.valid_email("a" + longest)
    assert not signin.valid_email("not an email")
    assert signin.valid_email(PRIYA)


async def test_the_sign_in_page_starts_empty_and_says_exactly_that_you_signed_out(client):
    page = await client.get("/signin")
    assert 'id="email" name="email" type="email" value=""' in page.text
    assert 'class="banner"' not in page.text
    signed_out = await client.get("/signin", params={"signed_out": "1"})
    assert '<div class="banner" role="status"><p>You have signed out.</p></div>' in signed_out.text


async def test_a_form_without_an_address_is_refused_as_empty_with_the_exact_hint(client):
    response = await client.post("/signin", data={"csrf_token": await csrf_token(client)})
    assert response.status_code == 422
    assert 'id="email" name="email" type="email" value=""' in response.text
    assert (
        '<li><a href="#email">Enter your work email address, like name@council.vic.gov.au</a></li>'
        in response.text
    )
    assert 'class="banner"' not in response.text
    assert await AuditEvent.all().count() == 0


async def test_each_request_is_audited_with_the_requesters_ip(client):
    priya = await support.practitioner()
    for _ in range(links.SIGNIN_PER_IP_PER_HOUR):
        await ratelimit.hit("signin:ip:203.0.113.7", links.SIGNIN_PER_IP_PER_HOUR)
    for _ in range(2):  # past the IP limit the second is held back: the first link is live
        await ask(client, PRIYA)
    [requested, _again] = await AuditEvent.filter(action="signin.requested").order_by("id")
    assert requested.actor_id == priya.id and requested.ip == "203.0.113.7"  # type: ignore[attr-defined]
    [capped] = await AuditEvent.filter(action="signin.capped")
    assert capped.ip == "203.0.113.7"


async def test_an_sso_domain_goes_to_its_provider_unless_an_email_link_is_asked_for(client, oidc):
    org = await support.sso_organisation(oidc)
    await support.practitioner(org=org)
    to_provider = await ask(client, PRIYA)
    assert to_provider.status_code == 200
    assert "Sign in with " in to_provider.text
    assert f'name="email" value="{PRIYA}"' in to_provider.text  # for "email me a link instead"
    assert "login_hint=priya.nair%40brimbank.example" in to_provider.text
    assert await Outbox.all().count() == 0
    instead = await ask(client, PRIYA, method="email")
    assert "Check your email" in instead.text and "Sign in with " not in instead.text
    assert await Outbox.filter(recipient=PRIYA).count() == 1
    for other in ("EMAIL", "sso", ""):
        assert "Sign in with " in (await ask(client, PRIYA, method=other)).text
    assert await Outbox.all().count() == 1


async def test_a_token_is_43_characters_and_goes_home_unless_told(client):
    priya = await support.practitioner()
    token = await signin.create_signin_token(priya)
    assert len(token) == 43  # 32 random bytes
    assert (await SignInToken.get()).next_path == "/"


async def test_the_email_says_exactly_this(client, settings):
    await support.practitioner()
    await ask(client, PRIYA)
    [email] = await Outbox.all()
    [token] = [w.split("token=")[1] for w in email.body.split() if "/signin/link?token=" in w]
    assert email.subject == "Your Patchwork sign-in link"
    assert email.body == (
        "Hello,\n\n"
        "Open this link to sign in to Patchwork. It works once, for the next 15 minutes:\n\n"
        f"{settings.base_url}/signin/link?token={token}\n\n"
        "If you did not ask to sign in, you can ignore this email.\n\n"
        "Patchwork shows you which other professionals are working with your client.\n"
    )


async def test_the_emailed_page_without_a_token_carries_an_empty_one(client):
    page = await client.get("/signin/link")
    assert page.status_code == 200
    assert 'name="token" value=""' in page.text


async def test_a_form_without_a_token_is_read_as_an_empty_token(client):
    priya = await support.practitioner()
    moment = clock.now()
    await SignInToken.create(
        token_hash=token_hash(""),
        email=PRIYA,
        practitioner=priya,
        next_path="/clients/5",
        created_at=moment,
        expires_at=moment + signin.LINK_LIFETIME,
    )
    response = await client.post("/signin/link", data={"csrf_token": await csrf_token(client)})
    assert response.status_code == 303 and response.headers["location"] == "/clients/5"


async def test_a_link_is_refused_at_the_very_moment_it_expires(client, monkeypatch):
    priya = await support.practitioner()
    token = await signin.create_signin_token(priya)
    expiry = (clock.now() + timedelta(minutes=15)).replace(microsecond=0)
    await SignInToken.all().update(expires_at=expiry)
    form = {"token": token, "csrf_token": await csrf_token(client)}
    monkeypatch.setattr(links, "now", lambda: expiry)
    assert (await client.post("/signin/link", data=form)).status_code == 400
    monkeypatch.setattr(links, "now", lambda: expiry - timedelta(microseconds=1))
    assert (await client.post("/signin/link", data=form)).status_code == 303


async def test_spending_a_link_leaves_every_other_link_unused(client):
    priya = await support.practitioner()
    aroha = await support.practitioner("Aroha Ngata", "aroha.ngata@brimbank.example")
    first = await signin.create_signin_token(priya)
    second = await signin.create_signin_token(priya)
    hers = await signin.create_signin_token(aroha)
    assert (await spend(client, first)).status_code == 303
    assert await SignInToken.filter(used_at__isnull=True).count() == 2
    client.cookies.clear()
    assert (await spend(client, second)).status_code == 303
    client.cookies.clear()
    assert (await spend(client, hers)).status_code == 303


async def test_a_refused_link_says_exactly_why_and_audits_the_ip(client):
    refused = await spend(client, "no-such-token")
    assert refused.status_code == 400
    assert NO_LINK in refused.text
    assert 'id="email-error"' in refused.text
    assert 'name="next" value="/"' in refused.text
    assert 'class="banner"' not in refused.text
    failed = await AuditEvent.get(action="signin.failed")
    assert failed.ip == "203.0.113.7"


async def test_a_successful_sign_in_is_audited_with_the_ip(client):
    priya = await support.practitioner()
    await sign_in(client, priya)
    event = await AuditEvent.get(action="signin.succeeded")
    assert event.ip == "203.0.113.7"
