"""The profile: details and areas, checked as at signup; automatic areas with their reason."""

from __future__ import annotations

from models.audit import AuditEvent
from models.practitioners import Practitioner, PractitionerArea
from tests import support
from tests.web.helpers import csrf_token, sign_in


async def post(client, path, **data):
    return await client.post(
        path, data={"csrf_token": await csrf_token(client, "/profile"), **data}
    )


async def test_details_are_edited_and_bad_ones_change_nothing(client):
    priya = await support.practitioner()
    await sign_in(client, priya)
    bad = await post(client, "/profile/details", name="", job_title="Nurse", phone="", mobile="")
    assert bad.status_code == 422 and "Enter your full name" in bad.text
    assert (await Practitioner.get(id=priya.id)).name == "Priya Nair"
    good = await post(
        client,
        "/profile/details",
        name="Priya N",
        job_title="Team Leader",
        phone="",
        mobile="0491 570 156",
    )
    assert good.status_code == 303
    saved = await Practitioner.get(id=priya.id)
    assert (saved.name, saved.job_title, saved.mobile) == ("Priya N", "Team Leader", "0491 570 156")
    assert await AuditEvent.filter(action="profile.updated", actor_id=priya.id).exists()


async def test_the_profile_says_who_is_signed_in(client):
    """On a shared tablet, who is signed in is one tap away (Profile), in words."""
    priya = await support.practitioner()
    await sign_in(client, priya)
    page = (await client.get("/profile")).text
    assert "Signed in as <strong>Priya Nair</strong>, Maternal &amp; Child Health Nurse" in page


async def test_areas_show_what_was_chosen_and_what_was_added_and_why(client):
    priya, _aroha, _sam, mia = await support.thompson_team()
    wyndham = await support.council("LGA27260")
    await sign_in(client, priya)
    assert (await post(client, "/profile/areas")).status_code == 422
    await post(client, "/profile/areas", areas=str(wyndham.id))
    assert await PractitionerArea.filter(practitioner=priya).values_list("area_id", flat=True) == [
        wyndham.id
    ]
    page = (await client.get("/profile")).text
    assert "You chose:</strong> Wyndham" in page
    assert 'Brimbank <span class="meta">— you are on 1 client\'s team there' in page
