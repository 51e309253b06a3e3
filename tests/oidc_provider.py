"""A small OpenID Connect provider for tests, on 127.0.0.1 in a thread.

Authorization code flow with PKCE (S256), RS256 ID tokens from joserfc. It signs in
whichever user the test set, and can be told to forge a bad token, or to answer with an
OAuth `error=`, to prove each is refused. Its clock is the app's (`web.clock`), so a test that
moves one moves both.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import uvicorn
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.support import free_port
from web.core import clock

#: The forgeries `Provider.forge` can be set to, each an ID token Patchwork must refuse.
FORGERIES = (
    "bad-signature",  # same kid, another key
    "wrong-audience",
    "wrong-nonce",
    "expired",
    "wrong-issuer",
    "no-subject",  # no `sub` claim at all
    "alg-none",  # unsigned, "alg": "none"
    "alg-hs256",  # HMAC keyed with the provider's published public key (algorithm confusion)
    "alg-unadvertised",  # ES256 with a key in the JWKS, though discovery says RS256 only
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Provider:
    client_id: str = "patchwork-test"
    client_secret: str = "s3cret-for-tests"
    port: int = field(default_factory=free_port)
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, {"kid": "good"}))
    #: Published in the JWKS too, for the "alg-unadvertised" forgery.
    ec_key: ECKey = field(default_factory=lambda: ECKey.generate_key("P-256", {"kid": "ec"}))
    #: The claims of whoever "signs in" at the provider next.
    user: dict[str, Any] = field(default_factory=dict)
    #: None, or one of FORGERIES.
    forge: str | None = None
    #: None, or an OAuth error code (e.g. "access_denied") to send the browser back with.
    refuse: str | None = None
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    authorize_requests: list[dict[str, str]] = field(default_factory=list)

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
                Route("/jwks", self.jwks),
            ]
        )

    async def discovery(self, request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
            }
        )

    async def jwks(self, request: Request) -> Response:
        return JSONResponse(KeySet([self.key, self.ec_key]).as_dict(private=False))

    async def authorize(self, request: Request) -> Response:
        params = dict(request.query_params)
        self.authorize_requests.append(params)
        if (
            params.get("client_id") != self.client_id
            or params.get("code_challenge_method") != "S256"
        ):
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        if self.refuse:
            query = urlencode({"error": self.refuse, "state": params["state"]})
            return RedirectResponse(f"{params['redirect_uri']}?{query}", status_code=302)
        code = secrets.token_urlsafe(16)
        self.codes[code] = {**params, "user": dict(self.user)}
        query = urlencode({"code": code, "state": params["state"]})
        return RedirectResponse(f"{params['redirect_uri']}?{query}", status_code=302)

    async def token(self, request: Request) -> Response:
        form = await request.form()
        grant = self.codes.pop(str(form.get("code")), None)
        basic = request.headers.get("authorization", "")
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if grant is None or basic != f"Basic {expected}":
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        verifier = str(form.get("code_verifier", ""))
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(
            b"="
        )
        if challenge.decode() != grant["code_challenge"]:
            return JSONResponse(
                {"error": "invalid_grant", "error_description": "PKCE"}, status_code=400
            )
        return JSONResponse(
            {
                "access_token": secrets.token_urlsafe(16),
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": self.id_token(grant),
            }
        )

    def id_token(self, grant: dict[str, Any]) -> str:
        moment = int(clock.now().timestamp())
        claims = {
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": moment,
            "exp": moment + 300,
            "nonce": grant.get("nonce"),
            **grant["user"],
        }
        key = self.key
        if self.forge == "bad-signature":
            key = RSAKey.generate_key(2048, {"kid": "good"})  # same kid, wrong key
        elif self.forge == "wrong-audience":
            claims["aud"] = "someone-else"
        elif self.forge == "wrong-nonce":
            claims["nonce"] = "not-the-nonce"
        elif self.forge == "expired":
            claims["exp"] = moment - 600
        elif self.forge == "wrong-issuer":
            claims["iss"] = "https://evil.example"
        elif self.forge == "no-subject":
            claims.pop("sub", None)
        elif self.forge == "alg-none":
            return self.unsigned({"alg": "none", "kid": "good"}, claims)
        elif self.forge == "alg-hs256":
            header = self.unsigned({"alg": "HS256", "kid": "good"}, claims).rstrip(".")
            secret = self.key.as_pem(private=False)
            mac = hmac.new(secret, header.encode(), hashlib.sha256).digest()
            return f"{header}.{_b64(mac)}"
        elif self.forge == "alg-unadvertised":
            return jwt.encode({"alg": "ES256", "kid": "ec"}, claims, self.ec_key)
        return jwt.encode({"alg": "RS256", "kid": "good"}, claims, key)

    @staticmethod
    def unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
        encode = lambda part: _b64(json.dumps(part).encode())  # noqa: E731
        return f"{encode(header)}.{encode(claims)}."


class ProviderServer:
    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        config = uvicorn.Config(
            provider.app(), host="127.0.0.1", port=provider.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("test OpenID provider did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
