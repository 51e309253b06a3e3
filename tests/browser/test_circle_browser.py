"""The Circle tab in Chromium: link a sibling, see the picture and the other team, follow a
practitioner's node to their phone and email, and remove a link only after being asked."""

from __future__ import annotations

import re
from datetime import date

import pytest

from models.circles import CircleLink, ordered_pair
from models.notifications import Notification
from models.organisations import SERVICE_TYPES
from tests import support
from tests.browser.axe import axe
from tests.browser.journeys import no_sideways_scroll, sign_in_as
from web.core.signins import create_signin_token, signin_url

pytestmark = pytest.mark.browser


async def test_linking_a_sibling_shows_their_team_and_a_described_picture(
    page, live_server, tmp_path
):
    priya, _aroha, _sam, _tom, mia, leo = await support.thompson_siblings()

    await page.set_viewport_size({"width": 320, "height": 800})
    await sign_in_as(page, live_server, priya)
    await page.get_by_role("link", name="Mia Thompson").click()
    await page.get_by_role("heading", name="Mia Thompson").wait_for()
    await axe(page)
    await page.get_by_role("link", name="Circle").click()
    await page.get_by_role("heading", name="Add to this circle").wait_for()
    await axe(page)
    await page.get_by_label("Which of your clients?").select_option(label="Leo Thompson")
    await page.get_by_label("They are Mia’s…").select_option(label="Sibling")
    await page.get_by_role("button", name="Add to the circle").click()
    await page.get_by_text("The link is added and both teams have been told.").wait_for()
    await axe(page)
    await no_sideways_scroll(page)
    [link] = await CircleLink.all()
    assert ordered_pair(mia.id, leo.id, "sibling") == (
        link.client_a_id,
        link.client_b_id,
        link.relationship,
    )
    assert link.created_by_id == priya.id
    told = {n.practitioner_id for n in await Notification.filter(kind="circle_linked")}
    assert priya.id not in told and len(told) == 3  # Aroha, Sam and Tom

    picture = page.get_by_role("group", name="Mia Thompson's circle")
    description = await page.locator("#picture-desc").text_content()
    assert "Leo Thompson (sibling) with 2 practitioners" in description
    assert await picture.is_visible()
    shot = tmp_path / "circle.png"  # for a person to look at when it fails
    await page.screenshot(path=shot, full_page=True)
    assert shot.read_bytes().startswith(b"\x89PNG")
    card = page.locator(".circle-card", has_text="Leo Thompson")
    assert await card.locator("strong", has_text="Tom Walker").is_visible()
    call = card.get_by_role("link", name="Call Tom Walker on 03 5550 1234")
    assert await call.get_attribute("href") == "tel:0355501234"
    await card.get_by_role("link", name="View team").click()
    await page.get_by_role("heading", name="Leo Thompson").wait_for()
    await axe(page)


#: Every label, node and link target the picture draws, where the browser drew it.
DRAWN = """svg => {
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  const rect = e => {
    const r = e.getBoundingClientRect();
    return [r.left, r.top, r.right, r.bottom];
  };
  return {
    scale,
    svg: rect(svg),
    texts: [...svg.querySelectorAll("text:not(.initials)")].map(t => ({
      text: t.textContent, box: rect(t), px: parseFloat(getComputedStyle(t).fontSize) * scale })),
    shapes: [...svg.querySelectorAll("use, circle.node")].map(rect),
    targets: [...svg.querySelectorAll("a .hit")].map(rect),
  };
}"""


def overlap(a, b, slack: float = 0.5) -> bool:
    return (
        a[0] + slack < b[2] and b[0] + slack < a[2] and a[1] + slack < b[3] and b[1] + slack < a[3]
    )


async def test_ten_circle_members_of_ten_practitioners_each_are_legible_on_a_phone(
    page, live_server, tmp_path
):
    """As Chromium draws it at 390 px: every label 12 px or more, inside the picture, clear of
    every other label and node, and every practitioner a target at least 44 px tall."""
    priya, _aroha, _sam, _tom, mia, _leo = await support.thompson_siblings()
    kinds = [t for t in SERVICE_TYPES if t in ("Health", "Child Protection", "Education", "Police")]
    organisations = [
        await support.organisation(f"Service {k}", f"service{n}.example")
        for n, k in enumerate(kinds)
    ]
    for organisation, kind in zip(organisations, kinds, strict=True):
        organisation.service_type = kind
        await organisation.save()
    for m in range(10):
        member = await support.client(
            f"Member{m}", "Featherstonehaugh", birth_date=date(2012, 1, m + 1)
        )
        await support.member(member, priya)
        for k in range(9):
            colleague = await support.practitioner(
                f"Colleague{m}{k} Wolstenholme-Worthington",
                f"colleague{m}{k}@service{k % 4}.example",
                organisations[k % 4],
                job_title="Senior Child Protection Practitioner, After Hours Emergency Service",
            )
            await support.member(member, colleague)
        a, b, relationship = ordered_pair(mia.id, member.id, "sibling")
        await CircleLink.create(client_a_id=a, client_b_id=b, relationship=relationship)

    await page.set_viewport_size({"width": 390, "height": 844})
    await sign_in_as(page, live_server, priya)
    await page.goto(live_server.url(f"/clients/{mia.id}/circle"))
    await page.get_by_role("heading", name="Add to this circle").wait_for()
    await axe(page)
    await no_sideways_scroll(page, 390)
    drawn = await page.locator("figure.circle-picture > svg").evaluate(DRAWN)
    assert len(drawn["targets"]) == 11 + 2 + 10 * 10  # each client, and each practitioner
    assert drawn["scale"] > 1
    labels = [t for t in drawn["texts"] if t["text"].strip()]
    assert len(labels) >= 2 * 113
    svg = drawn["svg"]
    for label in labels:
        assert label["px"] >= 12, label
        box = label["box"]
        assert svg[0] <= box[0] and box[2] <= svg[2] and svg[1] <= box[1] and box[3] <= svg[3], (
            label
        )
    boxes = [t["box"] for t in labels] + drawn["shapes"]  # initials, inside their node, aside
    clashes = [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :] if overlap(a, b)]
    assert not clashes, clashes[:3]
    for target in drawn["targets"]:
        assert target[3] - target[1] >= 44 and target[2] - target[0] >= 44
    # For a person to look at: the top of the picture, and the client in its middle.
    middle = next(t["box"] for t in labels if t["text"] == "Mia Thompson")
    for name, top in (("top", svg[1]), ("middle", middle[1] - 300)):
        clip = {"x": 0, "y": top, "width": 390, "height": 844}
        await page.screenshot(path=tmp_path / f"circle-10x10-{name}.png", clip=clip, full_page=True)


async def test_a_node_leads_to_the_card_and_removing_a_link_asks_first(page, live_server):
    priya, aroha, _sam, tom, mia, leo = await support.thompson_siblings()
    a, b, relationship = ordered_pair(mia.id, leo.id, "sibling")
    await CircleLink.create(client_a_id=a, client_b_id=b, relationship=relationship)

    await page.set_viewport_size({"width": 390, "height": 844})
    await sign_in_as(page, live_server, tom)  # on Leo's team, not Mia's
    await page.goto(live_server.url(f"/clients/{leo.id}/circle"))
    await page.get_by_role("heading", name="Add to this circle").wait_for()
    await axe(page)
    picture = page.get_by_role("group", name="Leo Thompson's circle")
    node = picture.get_by_role("link", name=re.compile("^Aroha Ngata, Child Protection"))
    await node.click()
    await page.wait_for_url(f"**#p-{mia.id}-{aroha.id}")
    card = page.locator(f"#p-{mia.id}-{aroha.id}")
    assert await card.is_visible()
    call = card.get_by_role("link", name="Call Aroha Ngata on 03 5550 3456")
    assert await call.get_attribute("href") == "tel:0355503456"
    assert (await call.bounding_box())["height"] >= 44
    email = card.get_by_role("link", name="Email Aroha Ngata")
    assert await email.get_attribute("href") == "mailto:aroha.ngata@dffh.example"
    assert (await email.bounding_box())["height"] >= 44
    assert not await page.get_by_text("Sam Lee").count()

    # Remove link asks first; Cancel keeps it.
    mia_card = page.locator(".circle-card", has_text="Mia Thompson")
    await mia_card.get_by_role("link", name="Remove link with Mia Thompson").click()
    question = "Remove the link between Leo Thompson and Mia Thompson?"
    await page.get_by_role("heading", name=question).wait_for()
    await axe(page)
    await page.get_by_role("link", name="Cancel").click()
    await page.get_by_role("heading", name="Add to this circle").wait_for()
    await axe(page)
    assert await CircleLink.all().count() == 1
    await mia_card.get_by_role("link", name="Remove link with Mia Thompson").click()
    await page.get_by_role("heading", name=question).wait_for()
    await axe(page)
    remove = page.get_by_role("button", name="Remove link")
    assert "warning" in (await remove.get_attribute("class") or "")
    await remove.click()
    await page.get_by_text("The link is removed.").wait_for()
    await axe(page)
    assert await CircleLink.all().count() == 0


async def test_removing_a_link_asks_first_without_javascript(browser, live_server, db, smtp):
    priya, _aroha, _sam, _tom, mia, leo = await support.thompson_siblings()
    a, b, relationship = ordered_pair(mia.id, leo.id, "sibling")
    await CircleLink.create(client_a_id=a, client_b_id=b, relationship=relationship)
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, java_script_enabled=False
    )
    page = await context.new_page()
    await page.goto(signin_url(live_server.base_url, await create_signin_token(priya)))
    await page.get_by_role("button", name="Sign in to Patchwork").click()
    await page.goto(live_server.url(f"/clients/{mia.id}/circle"))
    await page.get_by_role("link", name="Remove link with Leo Thompson").click()
    await page.get_by_role("heading", name="Remove the link between Mia Thompson").wait_for()
    await page.get_by_role("link", name="Cancel").click()
    await page.get_by_role("heading", name="Add to this circle").wait_for()
    assert await CircleLink.all().count() == 1
    await page.get_by_role("link", name="Remove link with Leo Thompson").click()
    await page.get_by_role("button", name="Remove link").click()
    await page.get_by_text("The link is removed.").wait_for()
    assert await CircleLink.all().count() == 0
    await context.close()
