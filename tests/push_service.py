"""A web push service for tests, on 127.0.0.1 in a thread.

It checks each request's VAPID JWT (ES256 against the `k` key, aud = scheme and host of the
endpoint, exp within 24 hours), decrypts the body (aes128gcm) with the subscription's private
key and auth secret, and answers with whatever status the test queued (201 by default).
"""

from __future__ import annotations

import base64
import os
import threading
import time
from dataclasses import dataclass, field

import http_ece
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwt
from joserfc.jwk import ECKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support import free_port


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Subscriber:
    """One browser's push subscription: its keys stay here, its JSON goes to the app."""

    endpoint: str
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    def to_json(self) -> dict[str, object]:
        public = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {"endpoint": self.endpoint, "keys": {"p256dh": b64(public), "auth": b64(self.auth)}}


@dataclass
class Received:
    subscriber: str
    plaintext: bytes
    claims: dict[str, object]
    status: int


class PushService:
    def __init__(self) -> None:
        self.port = free_port()
        self.subscribers: dict[str, Subscriber] = {}
        self.received: list[Received] = []
        self.answers: list[int] = []
        config = uvicorn.Config(
            Starlette(routes=[Route("/push/{id}", self.push, methods=["POST"])]),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def subscriber(self) -> Subscriber:
        name = str(len(self.subscribers) + 1)
        made = Subscriber(f"{self.origin}/push/{name}")
        self.subscribers[name] = made
        return made

    async def push(self, request: Request) -> Response:
        subscriber = self.subscribers.get(request.path_params["id"])
        if subscriber is None:
            return Response(status_code=404)
        scheme, _, params = request.headers.get("authorization", "").partition(" ")
        fields = dict(part.strip().split("=", 1) for part in params.split(","))
        assert scheme == "vapid", "missing VAPID authorisation"
        point = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(fields["k"]))
        pem = point.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        token = jwt.decode(fields["t"], ECKey.import_key(pem), algorithms=["ES256"])
        claims = token.claims
        assert claims["aud"] == self.origin, claims
        assert int(claims["exp"]) <= time.time() + 24 * 3600 + 60
        assert request.headers["content-encoding"] == "aes128gcm"
        plaintext = http_ece.decrypt(
            await request.body(),
            private_key=subscriber.key,
            auth_secret=subscriber.auth,
            version="aes128gcm",
        )
        status = self.answers.pop(0) if self.answers else 201
        self.received.append(Received(request.path_params["id"], plaintext, dict(claims), status))
        return Response(status_code=status)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("test push service did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
