"""Writing audit events: one call per audited action."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from models.audit import AuditEvent
from web.core.clock import now


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


async def record(
    request: Request | None,
    action: str,
    *,
    actor_id: int | None = None,
    client_id: int | None = None,
    area_id: int | None = None,
    **detail: Any,
) -> AuditEvent:
    """Record who did what. The actor defaults to the signed-in practitioner."""
    if actor_id is None and request is not None and request.state.practitioner is not None:
        actor_id = request.state.practitioner.id
    return await AuditEvent.create(
        at=now(),  # the app's clock, which the 07:00 digest's guard compares with
        action=action,
        actor_id=actor_id,
        client_id=client_id,
        area_id=area_id,
        ip=client_ip(request) if request is not None else "",
        detail=detail,
    )
