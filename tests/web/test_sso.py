"""Single sign-on through an organisation's OpenID Connect provider, and all it refuses."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from models.audit import AuditEvent
from models.auth import Session
from models.practitioners import Practitioner
from tests import support
from tests.web.helpers import csrf_token

PRIYA = "priya.nair@brimbank.example"


sso_organisation = support.sso_organisation


async def round_trip(client, email: str, **headers) -> httpx.Response:
    """Ask to sign in, follow the provider's redirect, and return the callback's answer."""
    start = await client.post(
        "/signin", data={"email": email, "csrf_token": await csrf_token(client)}, headers=headers
    )
    assert start.status_code == 200, start.text
    url = start.headers.get("hx-redirect") or re.search(
        r'href="(http://127\.0\.0\.1[^"]+)"', start.text
    ).group(1)
    url = url.replace("&amp;", "&")
    async with httpx.AsyncClient() as outside:
        at_provider = await outside.get(url)
    assert at_provider.status_code == 302, at_provider.text
    back = at_provider.headers["location"]
    assert back.startswith("http://testserver/sso/callback?")
    return await client.get(back)


async def test_an_sso_domain_goes_to_its_provider_with_pkce_state_and_nonce(client, oidc):
    await sso_organisation(oidc)
    await support.practitioner(org=await sso_organisation(oidc))
    oidc.user = {"sub": "priya-1", "email": PRIYA, "email_verified": True}
    response = await round_trip(client, PRIYA)
    assert response.status_code == 303 and response.headers["location"] == "/"
    [request] = oidc.authorize_requests
    assert request["code_challenge_method"] == "S256" and request["code_challenge"]
    assert request["state"] and request["nonce"] and request["login_hint"] == PRIYA
    assert request["redirect_uri"] == "http://testserver/sso/callback"
    assert (await client.get("/")).status_code == 200
    priya = await Practitioner.get(email=PRIYA)
    assert (priya.oidc_issuer, priya.oidc_subject) == (oidc.issuer, "priya-1")
    assert await Session.filter(practitioner=priya, method="sso").exists()


async def test_htmx_sign_in_is_redirected_straight_to_the_provider(client, oidc):
    await support.practitioner(org=await sso_organisation(oidc))
    oidc.user = {"sub": "priya-1", "email": PRIYA, "email_verified": True}
    response = await round_trip(client, PRIYA, **{"HX-Request": "true"})
    assert response.status_code == 303


async def test_a_returning_practitioner_is_matched_by_issuer_and_subject(client, oidc):
    org = await sso_organisation(oidc)
    priya = await support.practitioner(org=org, oidc_issuer=oidc.issuer, oidc_subject="priya-1")
    oidc.user = {"sub": "priya-1", "email": "changed.name@brimbank.example", "email_verified": True}
    assert (await round_trip(client, PRIYA)).status_code == 303
    assert await Session.filter(practitioner=priya).exists()


async def test_a_new_practitioner_is_created_only_for_a_domain_the_organisation_owns(client, oidc):
    org = await sso_organisation(oidc)
    oidc.user = {
        "sub": "new-1",
        "email": "new.person@brimbank.example",
        "email_verified": True,
        "name": "New Person",
    }
    assert (await round_trip(client, "new.person@brimbank.example")).status_code == 303
    new = await Practitioner.get(email="new.person@brimbank.example")
    assert new.organisation_id == org.id and new.name == "New Person"

    client.cookies.clear()
    oidc.user = {"sub": "stranger", "email": "someone@elsewhere.example", "email_verified": True}
    refused = await round_trip(client, "x@brimbank.example")
    assert refused.status_code == 400
    assert not await Practitioner.filter(email="someone@elsewhere.example").exists()


async def test_identities_from_different_providers_never_collide(client, oidc):
    ours = await sso_organisation(oidc)
    priya = await support.practitioner(
        org=ours, oidc_issuer="https://other-idp.example", oidc_subject="priya-1"
    )
    oidc.user = {"sub": "priya-1", "email": PRIYA, "email_verified": True}
    response = await round_trip(client, PRIYA)
    assert response.status_code == 400  # same subject, other issuer: not Priya's identity
    assert "already linked to a different sign-in" in response.text
    assert not await Session.filter(practitioner=priya).exists()


async def test_an_unverified_email_does_not_match(client, oidc):
    await support.practitioner(org=await sso_organisation(oidc))
    oidc.user = {"sub": "priya-1", "email": PRIYA, "email_verified": False}
    assert (await round_trip(client, PRIYA)).status_code == 400
    assert await Session.all().count() == 0


@pytest.mark.parametrize(
    "forgery", ["bad-signature", "wrong-audience", "wrong-nonce", "expired", "wrong-issuer"]
)
async def test_a_forged_id_token_is_refused_and_audited(client, oidc, forgery):
    priya = await support.practitioner(org=await sso_organisation(oidc))
    oidc.user = {"sub": "priya-1", "email": PRIYA, "email_verified": True}
    oidc.forge = forgery
    response = await round_trip(client, PRIYA)
    assert response.status_code == 400
    assert "could not be verified" in response.text
    assert await Session.all().count() == 0
    assert (await Practitioner.get(id=priya.id)).oidc_subject is None
    failed = await AuditEvent.get(action="signin.failed")
    assert failed.detail["method"] == "sso"


async def test_a_callback_with_someone_elses_state_is_refused(client, oidc):
    await support.practitioner(org=await sso_organisation(oidc))
    oidc.user = {"sub": "priya-1", "email": PRIYA, "email_verified": True}
    start = await client.post(
        "/signin",
        data={"email": PRIYA, "csrf_token": await csrf_token(client)},
        headers={"HX-Request": "true"},
    )
    async with httpx.AsyncClient() as outside:
        back = (await outside.get(start.headers["hx-redirect"])).headers["location"]
    query = parse_qs(urlsplit(back).query)
    forged = f"/sso/callback?code={query['code'][0]}&state=attacker-state"
    assert (await client.get(forged)).status_code == 400
    client.cookies.clear()  # another browser, without the flow cookie
    assert (await client.get(back.replace("http://testserver", ""))).status_code == 400
    assert await Session.all().count() == 0


async def test_email_links_remain_the_fallback_for_sso_domains(client, oidc, settings):
    from models.notifications import Outbox

    await support.practitioner(org=await sso_organisation(oidc))
    response = await client.post(
        "/signin", data={"email": PRIYA, "method": "email", "csrf_token": await csrf_token(client)}
    )
    assert "Check your email" in response.text
    assert await Outbox.filter(recipient=PRIYA).count() == 1


async def test_an_unreachable_provider_falls_back_to_an_email_link(client, oidc):
    from models.notifications import Outbox

    org = await sso_organisation(oidc)
    org.oidc_issuer = "http://127.0.0.1:9"  # nothing listens there
    await org.save()
    await support.practitioner(org=org)
    response = await client.post(
        "/signin", data={"email": PRIYA, "csrf_token": await csrf_token(client)}
    )
    assert response.status_code == 200 and "Check your email" in response.text
    assert await Outbox.filter(recipient=PRIYA).count() == 1
