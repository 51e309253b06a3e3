"""Signed-in devices: see every session, end one or all the others; deactivation ends all."""

from __future__ import annotations

import httpx

from models.audit import AuditEvent
from models.auth import Session
from tests import support
from tests.web.helpers import csrf_token, sign_in
from web.core.auth import deactivate


async def second_device(settings, priya) -> httpx.AsyncClient:
    from web.app import create_app

    transport = httpx.ASGITransport(app=create_app(settings))
    other = httpx.AsyncClient(
        transport=transport,
        base_url="http://testserver",
        headers={"user-agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0) Safari/604.1"},
    )
    await sign_in(other, priya)
    return other


async def test_devices_lists_sessions_and_signs_out_one_or_all_others(client, settings):
    priya = await support.practitioner()
    await sign_in(client, priya)
    phone = await second_device(settings, priya)
    tablet = await second_device(settings, priya)
    page = await client.get("/profile/devices")
    assert page.text.count('class="card"') == 3
    assert "Safari on iPhone" in page.text and "(this device)" in page.text

    phone_session = await Session.filter(practitioner=priya).order_by("id").offset(1).first()
    token = await csrf_token(client, "/profile/devices")
    response = await client.post(
        f"/profile/devices/{phone_session.id}/signout", data={"csrf_token": token}
    )
    assert response.status_code == 303
    assert (await phone.get("/")).status_code == 303  # that phone is signed out
    assert (await tablet.get("/")).status_code == 200

    await client.post("/profile/devices/signout-others", data={"csrf_token": token})
    assert (await tablet.get("/")).status_code == 303
    assert (await client.get("/")).status_code == 200  # this device stays signed in
    assert await Session.filter(practitioner=priya).count() == 1
    assert await AuditEvent.filter(action="session.ended").count() == 2
    await phone.aclose()
    await tablet.aclose()


async def test_nobody_can_end_someone_elses_session(client, settings):
    priya = await support.practitioner()
    tom = await support.practitioner("Tom Walsh", "tom.walsh@wyndham.example")
    other = await second_device(settings, priya)
    await sign_in(client, tom)
    priyas = await Session.get(practitioner=priya)
    token = await csrf_token(client, "/profile/devices")
    response = await client.post(
        f"/profile/devices/{priyas.id}/signout", data={"csrf_token": token}
    )
    assert response.status_code == 404
    assert (await other.get("/")).status_code == 200
    await other.aclose()


async def test_deactivating_a_practitioner_ends_all_their_sessions_at_once(client, settings):
    priya = await support.practitioner()
    await sign_in(client, priya)
    other = await second_device(settings, priya)
    assert await deactivate(priya) == 2
    assert await Session.filter(practitioner=priya).count() == 0
    assert (await client.get("/")).status_code == 303
    assert (await other.get("/")).status_code == 303
    await other.aclose()
