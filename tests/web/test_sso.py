"""Single sign-on through an organisation's OpenID Connect provider, and all it refuses."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from models.audit import AuditEvent
from models.auth import Session
from models.organisations import Organisation
from models.practitioners import Practitioner
from tests import support
from tests.oidc_provider import FORGERIES
from tests.web.helpers import csrf_token
from web.core import clock
from web.signin import sso

PRIYA = "priya.nair@brimbank.example"


sso_organisation = support.sso_organisation


async def start(client, email: str, htmx: bool = False) -> str:
    """Ask to sign in; return where the browser is sent: the `HX-Redirect` header for htmx
    (which must be there), otherwise the page's link (and no header)."""
    response = await client.post(
        "/signin",
        data={"email": email, "csrf_token": await csrf_token(client)},
        headers={"HX-Request": "true"} if htmx else {},
    )
    assert response.status_code == 200, response.text
    link = re.search(r'href="(http://127\.0\.0\.1[^"]+)"', response.text)
    assert link, "no link to the provider in the page"
    if htmx:
        return response.headers["hx-redirect"]
    assert "hx-redirect" not in response.headers
    return link.group(1).replace("&amp;", "&")


async def at_provider(url: str) -> str:
    """The browser at the provider, who sends it back: return the callback URL."""
    async with httpx.AsyncClient() as outside:
        answer = await outside.get(url)
    assert answer.status_code == 302, answer.text
    back = answer.headers["location"]
    assert back.startswith("http://testserver/sso/callback?")
    return back


async def round_trip(client, email: str, htmx: bool = False) -> httpx.Response:
    """Ask to sign in, follow the provider's redirect, and return the callback's answer."""
    return await client.get(await at_provider(await start(client, email, htmx)))


async def refused_without_a_session(response: httpx.Response, practitioner_id=None) -> None:
    """A refused callback: 400, nobody signed in, the failure audited, the flow cookie spent."""
    assert response.status_code == 400, response.text
    assert await Session.all().count() == 0
    failed = await AuditEvent.get(action="signin.failed")
    assert failed.detail["method"] == "sso" and failed.actor_id == practitioner_id
    assert "pwtest_sso=;" in response.headers.get("set-cookie", "")


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
    redirect = await start(client, PRIYA, htmx=True)  # the HX-Redirect header itself
    assert redirect.startswith(f"{oidc.issuer}/authorize?")
    query = parse_qs(urlsplit(redirect).query)
    assert query["client_id"] == [oidc.client_id] and query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == ["http://testserver/sso/callback"]
    back = await client.get(await at_provider(redirect))
    assert back.status_code == 303 and back.headers["location"] == "/"
    assert await Session.filter(method="sso").count() == 1


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
    assert await Session.all().count() == 1  # New Person's, from the first sign-in
    assert not await Practitioner.filter(email="someone@elsewhere.example").exists()


async def test_identities_from_different_providers_never_collide(client, oidc):
    ours = await sso_organisation(oidc)
    priya = await support.practitioner(
        org=ours, oidc_issuer="https://other-idp.example", oidc_subject="priya-1"
    )
    oidc.user = {"sub": "priya-1", "email": PRIYA, "email_verified": True}
    response = await round_trip(client, PRIYA)
    # Same subject, other issuer: not Priya's identity, and her link is left alone.
    await refused_without_a_session(response)
    priya = await Practitioner.get(id=priya.id)
    assert (priya.oidc_issuer, priya.oidc_subject) == ("https://other-idp.example", "priya-1")


async def test_an_unverified_email_does_not_match(client, oidc):
    await support.practitioner(org=await sso_organisation(oidc))
    oidc.user = {"sub": "priya-1", "email": PRIYA, "email_verified": False}
    await refused_without_a_session(await round_trip(client, PRIYA))
    assert (await Practitioner.get(email=PRIYA)).oidc_subject is None


@pytest.mark.parametrize("forgery", FORGERIES)
async def test_a_forged_id_token_is_refused_and_audited(client, oidc, forgery):
    """Bad signature, audience, nonce, issuer or expiry; no `sub`; and each algorithm
    mismatch: unsigned, HMAC keyed with the public key, or one discovery does not list."""
    priya = await support.practitioner(org=await sso_organisation(oidc))
    oidc.user = {"sub": "priya-1", "email": PRIYA, "email_verified": True}
    oidc.forge = forgery
    response = await round_trip(client, PRIYA)
    await refused_without_a_session(response)
    assert (await Practitioner.get(id=priya.id)).oidc_subject is None


async def test_the_providers_error_answer_is_refused(client, oidc):
    priya = await support.practitioner(org=await sso_organisation(oidc))
    oidc.user = {"sub": "priya-1", "email": PRIYA, "email_verified": True}
    oidc.refuse = "access_denied"
    back = await at_provider(await start(client, PRIYA))
    assert parse_qs(urlsplit(back).query)["error"] == ["access_denied"]
    await refused_without_a_session(await client.get(back))
    assert oidc.codes == {}  # no code was ever issued, so none was exchanged
    assert (await Practitioner.get(id=priya.id)).oidc_subject is None


async def test_a_replayed_callback_signs_nobody_in_again(client, oidc):
    await support.practitioner(org=await sso_organisation(oidc))
    oidc.user = {"sub": "priya-1", "email": PRIYA, "email_verified": True}
    flow = await start(client, PRIYA)
    cookie = client.cookies["pwtest_sso"]
    back = await at_provider(flow)
    assert (await client.get(back)).status_code == 303
    assert await Session.all().count() == 1
    # The same browser again: its flow cookie was spent by the first callback.
    assert "pwtest_sso" not in client.cookies
    assert (await client.get(back)).status_code == 400
    # A copy of the cookie too: the provider's code was spent on the first exchange.
    client.cookies.set("pwtest_sso", cookie)
    assert (await client.get(back)).status_code == 400
    assert await Session.all().count() == 1
    assert await AuditEvent.filter(action="signin.succeeded").count() == 1
    assert await AuditEvent.filter(action="signin.failed").count() == 2


async def test_a_deactivated_account_is_refused(client, oidc):
    org = await sso_organisation(oidc)
    priya = await support.practitioner(
        org=org, oidc_issuer=oidc.issuer, oidc_subject="priya-1", active=False
    )
    oidc.user = {"sub": "priya-1", "email": PRIYA, "email_verified": True}
    await refused_without_a_session(await round_trip(client, PRIYA), priya.id)
    assert not await AuditEvent.filter(action="signin.succeeded").exists()


async def test_a_provider_never_speaks_for_someone_of_another_organisation(client, oidc):
    """An account whose address is in the organisation's domain but who belongs to another
    organisation (placed there by an invitation, say) is not signed in by this provider, nor
    linked to it: the provider's administrator could otherwise become them."""
    await sso_organisation(oidc)
    elsewhere = await support.organisation(
        "Wyndham City Council — Youth Services", "wyndham.example", area_code="LGA27260"
    )
    priya = await support.practitioner(org=elsewhere, role="state_admin")
    oidc.user = {"sub": "made-up", "email": PRIYA, "email_verified": True}
    answer = await round_trip(client, PRIYA)
    assert "belongs to someone in another organisation" in answer.text
    await refused_without_a_session(answer)
    assert (await Practitioner.get(id=priya.id)).oidc_subject is None


async def test_an_organisation_whose_sso_was_removed_is_refused(client, oidc):
    org = await sso_organisation(oidc)
    priya = await support.practitioner(org=org)
    oidc.user = {"sub": "priya-1", "email": PRIYA, "email_verified": True}
    back = await at_provider(await start(client, PRIYA))
    await Organisation.filter(id=org.id).update(
        oidc_issuer="", oidc_client_id="", oidc_client_secret=""
    )
    await refused_without_a_session(await client.get(back))
    assert (await Practitioner.get(id=priya.id)).oidc_subject is None
    assert len(oidc.codes) == 1  # the code was never even exchanged


async def test_the_flow_cookie_lives_ten_minutes(client, oidc):
    await support.practitioner(org=await sso_organisation(oidc))
    oidc.user = {"sub": "priya-1", "email": PRIYA, "email_verified": True}
    response = await client.post(
        "/signin", data={"email": PRIYA, "csrf_token": await csrf_token(client)}
    )
    [flow_cookie] = [c for c in response.headers.get_list("set-cookie") if "pwtest_sso=" in c]
    assert f"Max-Age={sso.FLOW_LIFETIME}" in flow_cookie and sso.FLOW_LIFETIME == 600
    link = re.search(r'href="(http://127\.0\.0\.1[^"]+)"', response.text).group(1)
    back = await at_provider(link.replace("&amp;", "&"))
    # The browser kept the cookie past its Max-Age: the signature's age still refuses it.
    with clock.shifted(timedelta(seconds=sso.FLOW_LIFETIME + 1)):
        await refused_without_a_session(await client.get(back))


async def test_a_flow_within_ten_minutes_signs_in(client, oidc):
    await support.practitioner(org=await sso_organisation(oidc))
    oidc.user = {"sub": "priya-1", "email": PRIYA, "email_verified": True}
    back = await at_provider(await start(client, PRIYA))
    with clock.shifted(timedelta(seconds=sso.FLOW_LIFETIME - 5)):
        assert (await client.get(back)).status_code == 303
    assert await Session.filter(method="sso").count() == 1


async def test_a_callback_with_someone_elses_state_is_refused(client, oidc):
    await support.practitioner(org=await sso_organisation(oidc))
    oidc.user = {"sub": "priya-1", "email": PRIYA, "email_verified": True}
    back = await at_provider(await start(client, PRIYA, htmx=True))
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
