"""Sign-in state: server-side sessions, single-use links, passkeys, challenges, rate limits."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.practitioners import Practitioner


class Session(Model):
    """A signed-in device. The cookie holds a random token, only its SHA-256 is stored."""

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    practitioner: fields.ForeignKeyRelation[Practitioner] = fields.ForeignKeyField(
        "models.Practitioner", related_name="sessions", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()
    #: Last time the practitioner proved who they are (for sensitive actions).
    authenticated_at = fields.DatetimeField()
    #: How they signed in: "email", "passkey" or "sso".
    method = fields.CharField(max_length=10)
    user_agent = fields.CharField(max_length=300, default="")

    class Meta:
        table = "session"
        ordering = ["-last_seen_at"]


class SignInToken(Model):
    """A single-use emailed link (sign-in or signup verification), valid 15 minutes."""

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    #: "signin" or "signup".
    purpose = fields.CharField(max_length=10, default="signin")
    email = fields.CharField(max_length=254)
    practitioner: fields.ForeignKeyNullableRelation[Practitioner] = fields.ForeignKeyField(
        "models.Practitioner", related_name="signin_tokens", null=True, on_delete=fields.CASCADE
    )
    #: Where to go after signing in (a path on this site).
    next_path = fields.CharField(max_length=300, default="/")
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "signin_token"


class PasskeyCredential(Model):
    """A WebAuthn credential (passkey) registered by a practitioner."""

    id = fields.IntField(primary_key=True)
    practitioner: fields.ForeignKeyRelation[Practitioner] = fields.ForeignKeyField(
        "models.Practitioner", related_name="passkeys", on_delete=fields.CASCADE
    )
    #: base64url credential id.
    credential_id = fields.CharField(max_length=700, unique=True)
    public_key = fields.BinaryField()
    sign_count = fields.BigIntField(default=0)
    name = fields.CharField(max_length=80)
    transports: fields.Field[list[str]] = fields.JSONField(default=list)
    backup_eligible = fields.BooleanField(default=False)
    backed_up = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "passkey_credential"
        ordering = ["created_at"]


class WebAuthnChallenge(Model):
    """A single-use WebAuthn challenge, bound to the browser session that asked for it."""

    id = fields.IntField(primary_key=True)
    #: SHA-256 of the pre-session (or session) cookie that asked.
    binding = fields.CharField(max_length=64)
    challenge = fields.CharField(max_length=200, unique=True)
    #: "register" or "authenticate".
    purpose = fields.CharField(max_length=12)
    practitioner: fields.ForeignKeyNullableRelation[Practitioner] = fields.ForeignKeyField(
        "models.Practitioner", related_name="challenges", null=True, on_delete=fields.CASCADE
    )
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webauthn_challenge"


class RateLimitHit(Model):
    """One counted attempt. Kept in the database so every web process shares the limit."""

    id = fields.BigIntField(primary_key=True)
    #: e.g. "signin:addr:<sha256>", "signin:ip:<ip>", "search:<practitioner id>".
    key = fields.CharField(max_length=120)
    at = fields.DatetimeField()

    class Meta:
        table = "rate_limit_hit"
        indexes = (("key", "at"),)
