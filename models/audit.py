"""The audit trail: who did what, when. Ids only, so it survives data retention."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class AuditEvent(Model):
    """One audited action. Deliberately without foreign keys: rows outlive what they name.
    Every action the code records is listed, with its label, in web/admin/audit_log_events.py
    (a test keeps that list complete)."""

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField(auto_now_add=True)
    actor_id = fields.IntField(null=True)
    action = fields.CharField(max_length=40)
    client_id = fields.IntField(null=True)
    #: The council area concerned, so local administrators see their areas' events.
    area_id = fields.IntField(null=True)
    ip = fields.CharField(max_length=45, default="")
    detail: fields.Field[dict[str, object]] = fields.JSONField(default=dict)
    #: The event's place in the tamper-evident chain, once the worker has sealed it.
    chain_seq = fields.BigIntField(null=True, unique=True)
    #: SHA-256 over the previous sealed event's hash and this event's content.
    chain_hash = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "audit_event"
        ordering = ["-at", "-id"]
        indexes = (
            ("actor_id", "at"),
            ("client_id", "at"),
            ("area_id", "at"),
            ("action", "at"),
            ("at", "id"),
        )
