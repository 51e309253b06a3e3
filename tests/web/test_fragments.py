"""Every page template renders as an htmx fragment too (the same template, one block)."""

from __future__ import annotations

from tests import support
from tests.web.helpers import csrf_token, sign_in


async def test_signed_in_pages_render_as_fragments(client):
    priya = await support.practitioner()
    mia = await support.client()
    await support.member(mia, priya)
    await sign_in(client, priya)
    for path in ("/", "/profile", "/profile/devices", f"/clients/{mia.id}", "/signin", "/offline"):
        page = await client.get(path)
        fragment = await client.get(path, headers={"HX-Request": "true"})
        assert page.status_code == fragment.status_code == 200, path
        assert "<html" in page.text and "<html" not in fragment.text, path
        assert "<main" not in fragment.text, path


async def test_a_validation_error_renders_as_a_fragment(client):
    token = await csrf_token(client)
    response = await client.post(
        "/signin", data={"email": "nope", "csrf_token": token}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    assert "There is a problem" in response.text and "<html" not in response.text
