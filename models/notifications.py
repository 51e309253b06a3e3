"""Alerts and their delivery: in-app notifications, push subscriptions and the outbox."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.practitioners import Practitioner

NOTIFICATION_KINDS = (
    "joined",
    "left",
    "attention_raised",
    "attention_resolved",
    "circle_linked",
    "invited_to_team",
    "checkin_due",
    "membership_lapsed",
)


class Notification(Model):
    """An in-app alert for one practitioner. Names are looked up when shown, never stored."""

    id = fields.IntField(primary_key=True)
    practitioner: fields.ForeignKeyRelation[Practitioner] = fields.ForeignKeyField(
        "models.Practitioner", related_name="notifications", on_delete=fields.CASCADE
    )
    #: One of NOTIFICATION_KINDS.
    kind = fields.CharField(max_length=30)
    client_id = fields.IntField(null=True)
    #: Who caused it (null for the system, e.g. a check-in).
    actor_id = fields.IntField(null=True)
    #: Where it leads, a path on this site with ids only.
    url = fields.CharField(max_length=300, default="/notifications")
    created_at = fields.DatetimeField(auto_now_add=True)
    read_at = fields.DatetimeField(null=True)
    #: Set once the notification went out in a digest (email or push).
    digested_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notification"
        ordering = ["-created_at", "-id"]
        indexes = (("practitioner_id", "read_at"),)


class PushSubscription(Model):
    """A browser's push subscription (PushSubscription.toJSON()) for one practitioner."""

    id = fields.IntField(primary_key=True)
    practitioner: fields.ForeignKeyRelation[Practitioner] = fields.ForeignKeyField(
        "models.Practitioner", related_name="push_subscriptions", on_delete=fields.CASCADE
    )
    endpoint = fields.CharField(max_length=1000, unique=True)
    p256dh = fields.CharField(max_length=200)
    auth = fields.CharField(max_length=100)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "push_subscription"


class Outbox(Model):
    """A message waiting to leave: written in the same transaction as the change behind it.

    The worker claims due rows, sends each once, and backs off exponentially on failure.
    """

    id = fields.BigIntField(primary_key=True)
    #: "email" or "push".
    channel = fields.CharField(max_length=10, default="email")
    #: Email address, or the push subscription id as text.
    recipient = fields.CharField(max_length=1000)
    subject = fields.CharField(max_length=200, default="")
    body = fields.TextField(default="")
    #: [{"filename", "content_type", "content"}] — e.g. a meeting's .ics.
    attachments: fields.Field[list[dict[str, str]]] = fields.JSONField(default=list)
    created_at = fields.DatetimeField(auto_now_add=True)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    #: A worker holds the row until then, another may take it after (crash recovery).
    locked_until = fields.DatetimeField(null=True)
    last_error = fields.CharField(max_length=500, default="")
    sent_at = fields.DatetimeField(null=True)
    #: Given up after too many attempts (or a permanent refusal).
    failed_at = fields.DatetimeField(null=True)
    #: Lower goes first: 0 for sign-in and signup links someone is waiting for, 1 for alerts.
    priority = fields.SmallIntField(default=1)

    class Meta:
        table = "outbox"
        ordering = ["id"]
        indexes = (("sent_at", "failed_at", "next_attempt_at"),)
