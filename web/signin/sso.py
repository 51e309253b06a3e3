"""Single sign-on through an organisation's OpenID Connect provider (authlib + joserfc).

Authorization code flow with PKCE, `state` and `nonce`. What the callback needs to check
them travels in a short-lived signed cookie, bound to this browser. The ID token's
signature, issuer, audience, expiry and nonce are all verified before anyone is signed in.
"""

from __future__ import annotations

import time
from typing import Any

from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client
from itsdangerous import BadSignature, URLSafeTimedSerializer
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from models.organisations import Organisation, OrganisationDomain
from models.practitioners import Practitioner
from web.core import audit, clock
from web.core.auth import public, safe_next
from web.core.budgets import queries
from web.core.cookies import cookie_header
from web.core.render import page_or_block
from web.core.settings import Settings
from web.core.signins import complete_signin, refuse_signin

FLOW_LIFETIME = 600
METADATA_LIFETIME = 600
_metadata: dict[str, tuple[float, dict[str, Any], dict[str, Any]]] = {}


class SsoRefused(Exception):
    """The provider's answer cannot be accepted; the message is safe to show."""


def flow_cookie(settings: Settings) -> str:
    return (
        f"__Host-{settings.cookie_prefix}_sso"
        if settings.production
        else f"{settings.cookie_prefix}_sso"
    )


def serializer(settings: Settings) -> URLSafeTimedSerializer:
    """Signs the flow cookie; its age is read on the app's clock."""
    return URLSafeTimedSerializer(
        settings.secret_key, salt="patchwork-sso", signer=clock.TimestampSigner
    )


async def organisation_for(email: str) -> Organisation | None:
    """The organisation owning this address's domain, when it signs its people in itself."""
    domain = email.rsplit("@", 1)[-1]
    owner = await OrganisationDomain.get_or_none(domain=domain).select_related("organisation")
    if owner is None or not owner.organisation.has_sso:
        return None
    return owner.organisation


def oauth_client(settings: Settings, organisation: Organisation) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=organisation.oidc_client_id,
        client_secret=organisation.oidc_client_secret,
        scope="openid email profile",
        redirect_uri=f"{settings.base_url}/sso/callback",
        code_challenge_method="S256",
        timeout=10,
    )


async def provider_metadata(
    client: AsyncOAuth2Client, issuer: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The provider's discovery document and keys, cached for a few minutes."""
    cached = _metadata.get(issuer)
    if cached and time.monotonic() - cached[0] < METADATA_LIFETIME:
        return cached[1], cached[2]
    metadata = await _get_json(client, f"{issuer.rstrip('/')}/.well-known/openid-configuration")
    if metadata.get("issuer") != issuer:
        raise SsoRefused("The sign-in service described itself as someone else.")
    keys = await _get_json(client, metadata["jwks_uri"])
    _metadata[issuer] = (time.monotonic(), metadata, keys)
    return metadata, keys


async def _get_json(client: AsyncOAuth2Client, url: str) -> dict[str, Any]:
    try:
        response = await client.request("GET", url, withhold_token=True)
        response.raise_for_status()
        body = response.json()
    except Exception as error:  # noqa: BLE001 — an unreachable provider is a refusal, not a crash
        raise SsoRefused("Your organisation's sign-in service could not be reached.") from error
    if not isinstance(body, dict):
        raise SsoRefused("Your organisation's sign-in service answered strangely.")
    return body


async def start(
    request: Request, organisation: Organisation, email: str, next_path: str
) -> Response:
    """Send the browser to the organisation's provider (htmx: HX-Redirect; otherwise a link,
    because `form-action 'self'` stops a form's redirect to another site)."""
    settings: Settings = request.app.state.settings
    state, nonce, verifier = generate_token(32), generate_token(32), generate_token(48)
    async with oauth_client(settings, organisation) as client:
        metadata, _keys = await provider_metadata(client, organisation.oidc_issuer)
        url, _ = client.create_authorization_url(
            metadata["authorization_endpoint"],
            state=state,
            nonce=nonce,
            code_verifier=verifier,
            login_hint=email,
        )
    flow = serializer(settings).dumps(
        {
            "state": state,
            "nonce": nonce,
            "verifier": verifier,
            "org": organisation.id,
            "next": next_path,
        }
    )
    await audit.record(request, "signin.requested", method="sso", organisation_id=organisation.id)
    headers = {"Set-Cookie": cookie_header(settings, flow_cookie(settings), flow, FLOW_LIFETIME)}
    if request.headers.get("hx-request") == "true":
        headers["HX-Redirect"] = url
    return page_or_block(
        request,
        "signin/sso.html",
        {"organisation": organisation, "url": url, "email": email},
        headers=headers,
    )


@queries(8)
@public
async def callback(request: Request) -> Response:
    """The provider sends the browser back here: verify everything, then sign in."""
    settings: Settings = request.app.state.settings
    practitioner_id: int | None = None
    response: Response
    try:
        flow = read_flow(request, settings)
        organisation = await Organisation.get_or_none(id=flow["org"])
        if organisation is None or not organisation.has_sso:
            raise SsoRefused("Single sign-on is no longer set up for your organisation.")
        claims = await verified_claims(request, settings, organisation, flow)
        practitioner = await match_practitioner(organisation, claims)
        practitioner_id = practitioner.id
        if not practitioner.active:
            raise SsoRefused("This account has been deactivated.")
    except SsoRefused as refusal:
        await refuse_signin(request, practitioner_id, "sso", str(refusal))
        response = page_or_block(
            request,
            "signin/form.html",
            {
                "errors": {"email": f"{refusal} You can still sign in with an email link."},
                "email": "",
                "next": "/",
                "notice": "",
            },
            status_code=400,
        )
    else:
        redirect = RedirectResponse(safe_next(flow["next"]), status_code=303)
        response = await complete_signin(request, practitioner, "sso", redirect)
    response.headers.append("Set-Cookie", cookie_header(settings, flow_cookie(settings), "", 0))
    return response


def read_flow(request: Request, settings: Settings) -> dict[str, Any]:
    if "error" in request.query_params:
        raise SsoRefused("Your organisation's sign-in service did not sign you in.")
    try:
        flow: dict[str, Any] = serializer(settings).loads(
            request.cookies.get(flow_cookie(settings), ""), max_age=FLOW_LIFETIME
        )
    except BadSignature as error:
        raise SsoRefused("That sign-in took too long or started in another browser.") from error
    if request.query_params.get("state") != flow["state"]:
        raise SsoRefused("That sign-in did not start here.")
    return flow


async def verified_claims(
    request: Request, settings: Settings, organisation: Organisation, flow: dict[str, Any]
) -> dict[str, Any]:
    """Exchange the code (with the PKCE verifier) and verify the ID token completely."""
    async with oauth_client(settings, organisation) as client:
        metadata, keys = await provider_metadata(client, organisation.oidc_issuer)
        try:
            token = await client.fetch_token(
                metadata["token_endpoint"],
                code=request.query_params.get("code", ""),
                code_verifier=flow["verifier"],
            )
        except Exception as error:  # noqa: BLE001 — any failure of the exchange is a refusal
            raise SsoRefused("Your organisation's sign-in service refused the sign-in.") from error
    algorithms = signing_algorithms(metadata)
    try:
        key_set = KeySet.import_key_set(keys)  # type: ignore[arg-type]
        decoded = jwt.decode(token.get("id_token", ""), key_set, algorithms=algorithms)
        jwt.JWTClaimsRegistry(
            now=lambda: int(clock.now().timestamp()),
            iss={"essential": True, "value": organisation.oidc_issuer},
            aud={"essential": True, "value": organisation.oidc_client_id},
            sub={"essential": True},
            exp={"essential": True},
            nonce={"essential": True, "value": flow["nonce"]},
        ).validate(decoded.claims)
    except (JoseError, ValueError) as error:
        raise SsoRefused(f"The sign-in could not be verified ({type(error).__name__}).") from error
    return dict(decoded.claims)


#: ID token algorithms Patchwork accepts: public-key signatures only ("none" proves nothing,
#: and an HMAC keyed with a published key is anyone's), of those the provider says it uses.
ACCEPTED_ALGORITHMS = ("RS256", "ES256")


def signing_algorithms(metadata: dict[str, Any]) -> list[str]:
    """The algorithms an ID token from this provider may use (OIDC's default is RS256)."""
    advertised = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = [a for a in ACCEPTED_ALGORITHMS if a in advertised]
    if not algorithms:
        raise SsoRefused("Your organisation's sign-in service signs in a way we do not accept.")
    return algorithms


async def match_practitioner(organisation: Organisation, claims: dict[str, Any]) -> Practitioner:
    """By (issuer, subject) first; then by a verified email in a domain this organisation owns,
    of someone who belongs to this organisation. A new practitioner is created only for such a
    domain, so providers cannot collide."""
    issuer, subject = organisation.oidc_issuer, str(claims["sub"])
    known = await Practitioner.get_or_none(oidc_issuer=issuer, oidc_subject=subject)
    if known is not None:
        return known
    email = str(claims.get("email", "")).strip().lower()
    owned = {d.domain for d in await OrganisationDomain.filter(organisation=organisation)}
    if (
        not email
        or claims.get("email_verified") is not True
        or email.rsplit("@", 1)[-1] not in owned
    ):
        raise SsoRefused(
            "Your organisation's sign-in service did not confirm a work email we know."
        )
    practitioner = await Practitioner.get_or_none(email=email)
    if practitioner is None:
        return await Practitioner.create(
            email=email,
            name=str(claims.get("name") or email.split("@")[0]),
            organisation=organisation,
            oidc_issuer=issuer,
            oidc_subject=subject,
            signup_step=0,
        )
    if practitioner.organisation_id != organisation.id:  # type: ignore[attr-defined]
        # Only the provider of the organisation someone belongs to may speak for them: an
        # administrator pointing another organisation's sign-in at their own provider must not
        # become them.
        raise SsoRefused(
            "This email belongs to someone in another organisation: sign in with an email link."
        )
    if practitioner.oidc_issuer and (practitioner.oidc_issuer, practitioner.oidc_subject) != (
        issuer,
        subject,
    ):
        raise SsoRefused("This email is already linked to a different sign-in.")
    practitioner.oidc_issuer, practitioner.oidc_subject = issuer, subject
    await practitioner.save(update_fields=["oidc_issuer", "oidc_subject"])
    return practitioner


routes = [Route("/sso/callback", callback, methods=["GET"])]
