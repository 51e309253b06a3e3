"""Administrators manage the organisations based in the councils they look after: the list,
creating and editing every setting, domains unique across organisations, a client secret
that is stored and never shown again, the sensitive flag leaving memberships alone, a recent
sign-in before any change, an audit event after each, and hostile input refused.

Only a state administrator sets email domains and single sign-on (a local administrator who
could would be able to sign in as anyone in the organisation), and never a public email
service's domain."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from models.areas import Area
from models.audit import AuditEvent
from models.organisations import Organisation, OrganisationArea, OrganisationDomain
from models.practitioners import Practitioner
from models.teams import Membership
from tests import support
from tests.web.helpers import csrf_token, sign_in
from web.core import clock
from web.core.scopes import search_scopes

BRIMBANK, MELTON, WYNDHAM = "LGA21180", "LGA24650", "LGA27260"
SECRET = "s3cr3t-Value-never-shown-9f8e7d"


async def world():
    """Brimbank's and Melton's services (Grace's district), Wyndham's (not), Grace, Priya."""
    brimbank = await support.organisation()
    melton = await support.organisation(
        "Melton City Council — Youth Services", "melton.example", area_code=MELTON
    )
    wyndham = await support.organisation(
        "Wyndham City Council", "wyndham.example", area_code=WYNDHAM
    )
    mav = await support.organisation("Municipal Association of Victoria", "mav.example")
    grace = await support.local_admin("grace.okafor@mav.example", mav)
    priya = await support.practitioner()
    return {
        "brimbank": brimbank,
        "melton": melton,
        "wyndham": wyndham,
        "grace": grace,
        "priya": priya,
    }


async def as_grace(client):
    made = await world()
    await sign_in(client, made["grace"])
    return made


async def state_admin():
    dffh = await support.organisation("DFFH — Child Protection", "dffh.example")
    return await support.practitioner("Sasha State", "sasha@dffh.example", dffh, role="state_admin")


async def as_sasha(client):
    """The same world, signed in as Sasha, a state administrator."""
    made = await world()
    made["sasha"] = await state_admin()
    await sign_in(client, made["sasha"])
    return made


async def signed_in_as(client, who: str):
    return await (as_sasha if who == "sasha" else as_grace)(client)


async def form_of(organisation: Organisation, **changes) -> dict:
    """What the edit form would send back unchanged, with `changes` applied."""
    domains = await OrganisationDomain.filter(organisation=organisation).values_list(
        "domain", flat=True
    )
    served = await OrganisationArea.filter(organisation=organisation).values_list(
        "area_id", flat=True
    )
    data = {
        "name": organisation.name,
        "service_type": organisation.service_type,
        "parent_id": str(organisation.parent_id or ""),
        "area_id": str(organisation.area_id),
        "served": [str(a) for a in served],
        "duty_phone": organisation.duty_phone,
        "duty_email": organisation.duty_email,
        "domains": "\n".join(domains),
        "oidc_issuer": organisation.oidc_issuer,
        "oidc_client_id": organisation.oidc_client_id,
        "oidc_client_secret": "",
    }
    if organisation.sensitive:
        data["sensitive"] = "yes"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


async def post(client, path, data):
    token = await csrf_token(client, "/admin/organisations")
    return await client.post(path, data={**data, "csrf_token": token})


async def events(what: str) -> list[AuditEvent]:
    return [
        e
        for e in await AuditEvent.filter(action="admin.changed").order_by("id")
        if e.detail.get("what") == what
    ]


# -- the list --------------------------------------------------------------------------------


async def test_grace_sees_the_organisations_based_in_brimbank_and_melton_only(client):
    made = await as_grace(client)
    made["wyndham"].sensitive = True
    await made["wyndham"].save()
    page = await client.get("/admin/organisations")
    assert page.status_code == 200
    assert "Brimbank City Council — Maternal &amp; Child Health" in page.text
    assert "Melton City Council — Youth Services" in page.text
    assert "Wyndham" not in page.text and "wyndham.example" not in page.text
    assert "brimbank.example" in page.text and "1 member" in page.text  # Priya
    assert 'href="/admin/organisations/new"' in page.text
    filtered = await client.get("/admin/organisations", params={"q": "melton youth"})
    assert "Melton City Council" in filtered.text and "Brimbank City" not in filtered.text
    melton = await Area.get(code=MELTON)
    by_council = await client.get("/admin/organisations", params={"council": str(melton.id)})
    assert "Melton City Council" in by_council.text and "Brimbank City" not in by_council.text
    # A council outside her areas filters nothing in: it is ignored, never widened.
    wyndham = await Area.get(code=WYNDHAM)
    outside = await client.get("/admin/organisations", params={"council": str(wyndham.id)})
    assert "Wyndham" not in outside.text and "Brimbank City" in outside.text


async def test_a_state_administrator_sees_every_organisation_a_page_at_a_time(client):
    made = await world()
    westside = await support.organisation(
        "Westside Recovery Service", "westsiderecovery.example", sensitive=True
    )
    await support.sso_organisation(
        type(
            "Provider", (), {"issuer": "https://id.example", "client_id": "c", "client_secret": "x"}
        ),
        "Wyndham City Council",
    )
    await sign_in(client, await state_admin())
    page = await client.get("/admin/organisations")
    assert "Wyndham City Council" in page.text and westside.name in page.text
    assert "Sensitive" in page.text and "Single sign-on" in page.text
    area = await Area.get(code=WYNDHAM)
    await Organisation.bulk_create(
        [
            Organisation(name=f"Outreach {i:03}", service_type="Health", area_id=area.id)
            for i in range(120)
        ]
    )
    first = await client.get("/admin/organisations", params={"q": "outreach"})
    assert "120 organisations: page 1 of 3" in first.text
    assert "Outreach 049" in first.text and "Outreach 050" not in first.text
    assert 'href="/admin/organisations?q=outreach&amp;page=2"' in first.text
    last = await client.get("/admin/organisations", params={"q": "outreach", "page": "3"})
    assert "Outreach 119" in last.text and "Outreach 099" not in last.text
    for page_asked in ("999", "99999999999999999999", "abc", "-1", "²"):
        answer = await client.get("/admin/organisations", params={"page": page_asked})
        assert answer.status_code == 200
    fragment = await client.get(
        "/admin/organisations", params={"q": "westside"}, headers={"HX-Request": "true"}
    )
    assert westside.name in fragment.text and "<html" not in fragment.text
    assert made["melton"].name not in fragment.text


async def test_a_practitioner_is_refused_every_organisation_page(client):
    made = await world()
    await sign_in(client, made["priya"])
    brimbank = made["brimbank"]
    for path in (
        "/admin/organisations",
        "/admin/organisations/new",
        f"/admin/organisations/{brimbank.id}",
    ):
        assert (await client.get(path)).status_code == 403
    token = await csrf_token(client, "/")
    for path in (
        "/admin/organisations/new",
        f"/admin/organisations/{brimbank.id}",
        f"/admin/organisations/{brimbank.id}/sso/remove",
    ):
        answer = await client.post(path, data={"csrf_token": token, "name": "Taken over"})
        assert answer.status_code == 403
    assert await Organisation.filter(name="Taken over").count() == 0


async def test_organisations_outside_her_councils_are_the_same_404_as_missing_ones(client):
    made = await as_grace(client)
    wyndham = made["wyndham"]
    answers = [
        await client.get(f"/admin/organisations/{organisation_id}")
        for organisation_id in (wyndham.id, 999999, 99999999999999999999)
    ]
    assert {a.status_code for a in answers} == {404}
    # The same page but for the CSRF token each page carries.
    pages = {re.sub(r"[0-9a-f]{64,}", "", a.text) for a in answers}
    assert len(pages) == 1
    assert "Wyndham" not in answers[0].text
    before = await support.snapshot()
    for path in (
        f"/admin/organisations/{wyndham.id}",
        f"/admin/organisations/{wyndham.id}/sso/remove",
    ):
        refused = await post(client, path, await form_of(wyndham, name="Renamed"))
        assert refused.status_code == 404
    assert support.changed(before, await support.snapshot()) == []


# -- creating and editing --------------------------------------------------------------------


NEW_HUB = {
    "name": "  Brimbank   Youth Hub ",
    "service_type": "Youth Services",
    "duty_phone": "03 9249 4000",
    "duty_email": "Intake@YouthHub.example",
    "domains": "YouthHub.example\n@hub.brimbank.example, youthhub.example\n",
    "sensitive": "yes",
    "oidc_issuer": "https://id.youthhub.example/realms/staff",
    "oidc_client_id": "patchwork",
    "oidc_client_secret": SECRET,
}


async def test_grace_creates_an_organisation_in_her_councils(client):
    """With no email domains and no single sign-on, whatever the form sends for them."""
    made = await as_grace(client)
    brimbank, melton = await Area.get(code=BRIMBANK), await Area.get(code=MELTON)
    form = await client.get("/admin/organisations/new")
    assert form.status_code == 200 and "Wyndham" not in form.text
    assert "existing memberships are not changed" in form.text.lower()
    created = await post(
        client,
        "/admin/organisations/new",
        {
            **NEW_HUB,
            "parent_id": str(made["brimbank"].id),
            "area_id": str(brimbank.id),
            "served": [str(melton.id), str(brimbank.id)],
        },
    )
    assert created.status_code == 303, created.text
    hub = await Organisation.get(name="Brimbank Youth Hub")
    assert created.headers["location"] == f"/admin/organisations/{hub.id}?done=created"
    assert (hub.service_type, hub.parent_id, hub.area_id) == (
        "Youth Services",
        made["brimbank"].id,
        brimbank.id,
    )
    assert (hub.duty_phone, hub.duty_email, hub.sensitive) == (
        "03 9249 4000",
        "intake@youthhub.example",
        True,
    )
    assert (hub.oidc_issuer, hub.oidc_client_id, hub.oidc_client_secret) == ("", "", "")
    assert await OrganisationDomain.filter(organisation=hub).count() == 0
    # The council it is based in is not also "served".
    assert await OrganisationArea.filter(organisation=hub).values_list("area_id", flat=True) == [
        melton.id
    ]
    [event] = await events("organisation.created")
    assert event.actor_id == made["grace"].id and event.area_id == brimbank.id
    assert event.detail["organisation_id"] == hub.id
    assert set(event.detail["fields"]) >= {"name", "sensitive"}
    assert not set(event.detail["fields"]) & {
        "domains",
        "oidc_issuer",
        "oidc_client_id",
        "oidc_client_secret",
    }
    shown = await client.get(created.headers["location"])
    assert "The organisation is created." in shown.text
    assert SECRET not in shown.text


async def test_a_state_administrator_creates_one_with_domains_and_single_sign_on(client):
    made = await as_sasha(client)
    brimbank, melton = await Area.get(code=BRIMBANK), await Area.get(code=MELTON)
    created = await post(
        client,
        "/admin/organisations/new",
        {
            **NEW_HUB,
            "parent_id": str(made["brimbank"].id),
            "area_id": str(brimbank.id),
            "served": [str(melton.id)],
        },
    )
    assert created.status_code == 303, created.text
    hub = await Organisation.get(name="Brimbank Youth Hub")
    assert (hub.oidc_issuer, hub.oidc_client_id, hub.oidc_client_secret) == (
        "https://id.youthhub.example/realms/staff",
        "patchwork",
        SECRET,
    )
    assert sorted(
        await OrganisationDomain.filter(organisation=hub).values_list("domain", flat=True)
    ) == ["hub.brimbank.example", "youthhub.example"]
    [event] = await events("organisation.created")
    assert event.actor_id == made["sasha"].id
    assert set(event.detail["fields"]) >= {"name", "domains", "sensitive", "oidc_client_secret"}


async def test_a_new_organisation_must_be_based_in_her_councils(client):
    await as_grace(client)
    wyndham = await Area.get(code=WYNDHAM)
    brimbank = await Area.get(code=BRIMBANK)
    before = await support.snapshot()
    for where in (
        {"area_id": str(wyndham.id)},
        {"area_id": str(brimbank.id), "served": [str(wyndham.id)]},
    ):
        refused = await post(
            client,
            "/admin/organisations/new",
            {"name": "Elsewhere Service", "service_type": "Health", **where},
        )
        assert refused.status_code == 422
        assert "There is a problem" in refused.text
    assert support.changed(before, await support.snapshot()) == []


CHANGES = [
    ("name", "Brimbank Maternal and Child Health"),
    ("service_type", "Health"),
    ("duty_phone", "(03) 9249-4000"),
    ("duty_email", "mch@brimbank.example"),
    ("sensitive", "yes"),
]


@pytest.mark.parametrize(
    ("who", "field", "value"),
    [("grace", *change) for change in CHANGES]
    + [("sasha", *change) for change in CHANGES]
    + [("sasha", "domains", "brimbank.example\nmch.brimbank.example")],
)
async def test_each_field_can_be_changed_and_only_it_is_audited(client, who, field, value):
    made = await signed_in_as(client, who)
    brimbank = made["brimbank"]
    answer = await post(
        client, f"/admin/organisations/{brimbank.id}", await form_of(brimbank, **{field: value})
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"/admin/organisations/{brimbank.id}?done=saved"
    [event] = await events("organisation.updated")
    assert event.detail == {
        "what": "organisation.updated",
        "organisation_id": brimbank.id,
        "fields": [field],
    }
    assert event.area_id == brimbank.area_id


async def test_parent_base_and_areas_served_change_within_her_councils(client):
    made = await as_grace(client)
    brimbank, melton_org = made["brimbank"], made["melton"]
    melton = await Area.get(code=MELTON)
    path = f"/admin/organisations/{melton_org.id}"
    edit = await client.get(path)
    assert f'<option value="{melton_org.id}"' not in edit.text  # never its own parent
    await post(client, path, await form_of(melton_org, parent_id=str(brimbank.id)))
    staff = await support.practitioner("Mel Ton", "mel.ton@melton.example", melton_org)
    assert [a.name for a in (await search_scopes(staff)).local] == ["Melton"]
    await post(
        client,
        path,
        await form_of(await Organisation.get(id=melton_org.id), area_id=str(brimbank.area_id)),
    )
    # Its people with no areas of their own now search from its new council.
    staff = await Practitioner.get(id=staff.id).select_related("organisation")
    assert [a.name for a in (await search_scopes(staff)).local] == ["Brimbank"]
    moved = await Organisation.get(id=melton_org.id)
    await post(client, path, await form_of(moved, served=[str(melton.id)]))
    assert (moved.parent_id, moved.area_id) == (brimbank.id, brimbank.area_id)
    assert await OrganisationArea.filter(organisation=moved).values_list("area_id", flat=True) == [
        melton.id
    ]
    assert [e.detail["fields"] for e in await events("organisation.updated")] == [
        ["parent"],
        ["area"],
        ["areas_served"],
    ]
    # Brimbank's service is now Melton's parent: it may not take its own child as parent.
    brimbank_edit = await client.get(f"/admin/organisations/{brimbank.id}")
    assert f'<option value="{melton_org.id}"' not in brimbank_edit.text
    refused = await post(
        client,
        f"/admin/organisations/{brimbank.id}",
        await form_of(brimbank, parent_id=str(melton_org.id)),
    )
    assert (
        refused.status_code == 422 and "Choose a parent organisation from the list" in refused.text
    )


async def test_areas_served_outside_her_councils_are_shown_and_kept(client):
    made = await as_grace(client)
    brimbank = made["brimbank"]
    wyndham = await Area.get(code=WYNDHAM)
    await OrganisationArea.create(organisation=brimbank, area=wyndham)
    edit = await client.get(f"/admin/organisations/{brimbank.id}")
    assert "It also serves Wyndham, outside your areas" in edit.text
    await post(
        client,
        f"/admin/organisations/{brimbank.id}",
        await form_of(brimbank, served=[], name="Renamed MCH"),
    )
    assert await OrganisationArea.filter(organisation=brimbank).values_list(
        "area_id", flat=True
    ) == [wyndham.id]


async def test_saving_an_unchanged_form_changes_and_audits_nothing(client):
    made = await as_grace(client)
    brimbank = made["brimbank"]
    answer = await post(client, f"/admin/organisations/{brimbank.id}", await form_of(brimbank))
    assert answer.headers["location"] == f"/admin/organisations/{brimbank.id}?done=unchanged"
    assert await events("organisation.updated") == []


# -- email domains ---------------------------------------------------------------------------


async def test_a_domain_belongs_to_one_organisation(client):
    made = await as_sasha(client)
    melton = made["melton"]
    path = f"/admin/organisations/{melton.id}"
    before = await support.snapshot()
    seen = await post(
        client, path, await form_of(melton, domains="melton.example\nBrimbank.Example")
    )
    assert seen.status_code == 422
    assert (
        "brimbank.example already belongs to Brimbank City Council — Maternal &amp; Child Health"
        in seen.text
    )
    elsewhere = await post(client, path, await form_of(melton, domains="wyndham.example"))
    assert elsewhere.status_code == 422
    assert "wyndham.example already belongs to Wyndham City Council" in elsewhere.text
    for bad in (
        "not a domain",
        "x@melton.example",
        "melton",
        "-bad-.example",
        "mélton.example",
        "a." * 200 + "example",
    ):
        refused = await post(client, path, await form_of(melton, domains=bad))
        assert refused.status_code == 422, bad
        assert 'href="#domains"' in refused.text
    many = "\n".join(f"d{i}.example" for i in range(51))
    assert (await post(client, path, await form_of(melton, domains=many))).status_code == 422
    assert support.changed(before, await support.snapshot()) == []
    # Its own domains, in any case and order, are no conflict; removing one frees it.
    kept = await post(
        client, path, await form_of(melton, domains="MELTON.example\nyouth.melton.example")
    )
    assert kept.status_code == 303
    emptied = await post(client, path, await form_of(melton, domains=""))
    assert emptied.status_code == 303
    assert await OrganisationDomain.filter(organisation=melton).count() == 0
    taken = await post(
        client,
        f"/admin/organisations/{made['brimbank'].id}",
        await form_of(made["brimbank"], domains="brimbank.example\nmelton.example"),
    )
    assert taken.status_code == 303
    assert (await OrganisationDomain.get(domain="melton.example")).organisation_id == made[
        "brimbank"
    ].id  # type: ignore[attr-defined]


async def test_the_owner_of_a_domain_is_named_only_to_an_administrator_who_may_see_it(client):
    from web.admin.organisations_form import read_domains

    made = await world()
    melton = made["melton"]
    hers = [(await Area.get(code=BRIMBANK)).id, (await Area.get(code=MELTON)).id]
    _, unseen = await read_domains("wyndham.example", melton.id, hers)
    assert unseen == "wyndham.example already belongs to another organisation"
    _, seen = await read_domains("brimbank.example", melton.id, hers)
    assert seen == f"brimbank.example already belongs to {made['brimbank'].name}"


PUBLIC = (
    "gmail.com googlemail.com outlook.com hotmail.com live.com msn.com yahoo.com yahoo.com.au "
    "icloud.com me.com aol.com protonmail.com proton.me bigpond.com bigpond.net.au "
    "optusnet.com.au gmx.com mail.com zoho.com yandex.com"
).split()


async def test_a_public_email_service_is_never_an_organisations_domain(client):
    made = await as_sasha(client)
    melton = made["melton"]
    path = f"/admin/organisations/{melton.id}"
    before = await support.snapshot()
    for domain in [*PUBLIC, "GMail.com", "@hotmail.com"]:
        for target in (path, "/admin/organisations/new"):
            refused = await post(
                client,
                target,
                await form_of(melton, name="Public Mail", domains=f"melton.example\n{domain}"),
            )
            assert refused.status_code == 422, (target, domain)
            assert 'href="#domains"' in refused.text
            plain = domain.lower().lstrip("@")
            assert f"{plain} is a public email service: anyone can have an address there" in (
                refused.text
            )
    assert support.changed(before, await support.snapshot()) == []
    # A council's own domain at a public suffix is fine.
    kept = await post(client, path, await form_of(melton, domains="melton.vic.gov.au"))
    assert kept.status_code == 303


# -- only a state administrator sets domains and single sign-on ------------------------------

TAKEOVER = {
    "domains": "brimbank.example\nattacker.example",
    "oidc_issuer": "https://id.attacker.example",
    "oidc_client_id": "attacker",
    "oidc_client_secret": "attacker-secret-1234",
}
NOTE = (
    "Only a state administrator can change email domains and single sign-on: they decide "
    "whose sign-ins this organisation vouches for."
)


async def with_sso(organisation: Organisation) -> Organisation:
    organisation.oidc_issuer, organisation.oidc_client_id, organisation.oidc_client_secret = (
        "https://id.brimbank.example",
        "patchwork-mch",
        SECRET,
    )
    await organisation.save()
    return organisation


async def sign_ins_of(organisation: Organisation) -> tuple:
    stored = await Organisation.get(id=organisation.id)
    domains = await OrganisationDomain.filter(organisation=organisation).values_list(
        "domain", flat=True
    )
    return (
        sorted(map(str, domains)),
        stored.oidc_issuer,
        stored.oidc_client_id,
        stored.oidc_client_secret,
    )


async def test_a_local_administrators_save_keeps_the_domains_and_single_sign_on(client):
    made = await as_grace(client)
    brimbank = await with_sso(made["brimbank"])
    path = f"/admin/organisations/{brimbank.id}"
    kept = await sign_ins_of(brimbank)
    assert kept == (["brimbank.example"], "https://id.brimbank.example", "patchwork-mch", SECRET)
    # Only her sign-in fields changed: nothing to save.
    ignored = await post(client, path, await form_of(brimbank, **TAKEOVER))
    assert ignored.status_code == 303
    assert ignored.headers["location"] == f"{path}?done=unchanged"
    for sent in (
        TAKEOVER,
        {"domains": "", "oidc_issuer": "", "oidc_client_id": "", "oidc_client_secret": ""},
        # Not even checked, so never a 422 for them.
        {"domains": "gmail.com\nnot a domain", "oidc_issuer": "javascript:alert(1)"},
    ):
        answer = await post(client, path, await form_of(brimbank, name="Renamed MCH", **sent))
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == f"{path}?done=saved"
        assert await sign_ins_of(brimbank) == kept
        assert (await Organisation.get(id=brimbank.id)).name == "Renamed MCH"
        brimbank.name = "Brimbank City Council — Maternal & Child Health"
        await brimbank.save(update_fields=["name"])
    # Leaving a field out of the form keeps it too.
    bare = await form_of(brimbank, sensitive="yes")
    for name in ("domains", "oidc_issuer", "oidc_client_id", "oidc_client_secret"):
        bare.pop(name)
    assert (await post(client, path, bare)).status_code == 303
    assert await sign_ins_of(brimbank) == kept
    assert [e.detail["fields"] for e in await events("organisation.updated")] == [
        ["name"],
        ["name"],
        ["name"],
        ["sensitive"],
    ]
    assert await OrganisationDomain.filter(domain="attacker.example").count() == 0
    assert "attacker-secret-1234" not in repr(
        await AuditEvent.all().values_list("detail", flat=True)
    )


async def test_a_state_administrators_save_changes_the_domains_and_single_sign_on(client):
    made = await as_sasha(client)
    brimbank = await with_sso(made["brimbank"])
    path = f"/admin/organisations/{brimbank.id}"
    answer = await post(client, path, await form_of(brimbank, **TAKEOVER))
    assert answer.status_code == 303, answer.text
    assert await sign_ins_of(brimbank) == (
        ["attacker.example", "brimbank.example"],
        "https://id.attacker.example",
        "attacker",
        "attacker-secret-1234",
    )
    [event] = await events("organisation.updated")
    assert event.detail["fields"] == [
        "domains",
        "oidc_issuer",
        "oidc_client_id",
        "oidc_client_secret",
    ]


async def test_a_local_administrator_may_not_remove_single_sign_on(client):
    made = await as_grace(client)
    brimbank = await with_sso(made["brimbank"])
    path = f"/admin/organisations/{brimbank.id}"
    before = await support.snapshot()
    refused = await post(client, f"{path}/sso/remove", {})
    assert refused.status_code == 403
    assert "You cannot do that" in refused.text and NOTE in refused.text
    assert f'href="{path}"' in refused.text
    assert support.changed(before, await support.snapshot()) == []
    assert await events("organisation.updated") == []
    assert (await Organisation.get(id=brimbank.id)).has_sso


async def test_a_local_administrator_sees_domains_and_single_sign_on_read_only(client):
    made = await as_grace(client)
    brimbank = await with_sso(made["brimbank"])
    page = (await client.get(f"/admin/organisations/{brimbank.id}")).text
    assert NOTE in page
    assert "brimbank.example" in page
    assert "https://id.brimbank.example" in page and "patchwork-mch" in page
    assert SECRET not in page and SECRET[:12] not in page
    for field in ("domains", "oidc_issuer", "oidc_client_id", "oidc_client_secret"):
        assert f'name="{field}"' not in page
    assert "/sso/remove" not in page
    melton = (await client.get(f"/admin/organisations/{made['melton'].id}")).text
    assert NOTE in melton and "Not set up" in melton
    blank = (await client.get("/admin/organisations/new")).text
    assert NOTE in blank and 'name="domains"' not in blank
    # A form shown again with a problem is read-only too.
    shown_again = await post(
        client, f"/admin/organisations/{brimbank.id}", await form_of(brimbank, name="", **TAKEOVER)
    )
    assert shown_again.status_code == 422
    assert NOTE in shown_again.text and "attacker" not in shown_again.text
    assert SECRET not in shown_again.text


async def test_a_state_administrator_sees_the_form_without_the_note(client):
    made = await as_sasha(client)
    brimbank = await with_sso(made["brimbank"])
    page = (await client.get(f"/admin/organisations/{brimbank.id}")).text
    assert NOTE not in page
    assert 'name="domains"' in page and 'name="oidc_client_secret"' in page
    assert "/sso/remove" in page and SECRET not in page


# -- single sign-on --------------------------------------------------------------------------


async def everything_shown(client, path: str) -> str:
    """The edit page and every audit row, as one text to search for the secret."""
    page = (await client.get(path)).text
    rows = await AuditEvent.all().values_list("detail", flat=True)
    return page + repr(rows)


async def test_the_client_secret_is_stored_never_shown_replaceable_and_removable(client):
    made = await as_sasha(client)
    brimbank = made["brimbank"]
    path = f"/admin/organisations/{brimbank.id}"
    sso = {"oidc_issuer": "https://id.brimbank.example", "oidc_client_id": "patchwork-mch"}
    assert "No secret is stored." in (await client.get(path)).text
    # Without a secret, single sign-on is incomplete.
    missing = await post(client, path, await form_of(brimbank, **sso))
    assert missing.status_code == 422 and "Enter the client secret" in missing.text
    # A problem elsewhere: the typed secret is not echoed, and the form says so.
    shown_again = await post(
        client, path, await form_of(brimbank, name="", oidc_client_secret=SECRET, **sso)
    )
    assert shown_again.status_code == 422
    assert SECRET not in shown_again.text and "enter it again" in shown_again.text
    saved = await post(client, path, await form_of(brimbank, oidc_client_secret=SECRET, **sso))
    assert saved.status_code == 303
    stored = await Organisation.get(id=brimbank.id)
    assert stored.oidc_client_secret == SECRET and stored.has_sso
    text = await everything_shown(client, path)
    assert SECRET not in text and SECRET[:12] not in text
    assert "A secret is stored." in text and "Remove single sign-on" in text
    [event] = await events("organisation.updated")
    assert event.detail["fields"] == ["oidc_issuer", "oidc_client_id", "oidc_client_secret"]
    # Saving other changes keeps it; a new one replaces it.
    await post(client, path, await form_of(stored, duty_phone="03 9249 4000"))
    assert (await Organisation.get(id=brimbank.id)).oidc_client_secret == SECRET
    await post(client, path, await form_of(stored, oidc_client_secret="replacement-secret-42"))
    replaced = await Organisation.get(id=brimbank.id)
    assert replaced.oidc_client_secret == "replacement-secret-42"
    assert "replacement-secret-42" not in await everything_shown(client, path)
    # Removing it clears all three.
    removed = await post(client, f"{path}/sso/remove", {})
    assert removed.status_code == 303
    assert removed.headers["location"] == f"{path}?done=sso-removed"
    gone = await Organisation.get(id=brimbank.id)
    assert (gone.oidc_issuer, gone.oidc_client_id, gone.oidc_client_secret) == ("", "", "")
    page = (await client.get(removed.headers["location"])).text
    assert "Single sign-on is removed" in page and "No secret is stored." in page
    assert [e.detail["fields"] for e in await events("organisation.updated")][-1] == [
        "oidc_issuer",
        "oidc_client_id",
        "oidc_client_secret",
    ]
    assert "replacement-secret-42" not in repr(
        await AuditEvent.all().values_list("detail", flat=True)
    )


async def test_clearing_the_issuer_and_client_id_also_deletes_the_secret(client):
    made = await as_sasha(client)
    brimbank = made["brimbank"]
    brimbank.oidc_issuer, brimbank.oidc_client_id, brimbank.oidc_client_secret = (
        "https://id.brimbank.example",
        "patchwork",
        SECRET,
    )
    await brimbank.save()
    path = f"/admin/organisations/{brimbank.id}"
    answer = await post(client, path, await form_of(brimbank, oidc_issuer="", oidc_client_id=""))
    assert answer.status_code == 303
    assert (await Organisation.get(id=brimbank.id)).oidc_client_secret == ""
    [event] = await events("organisation.updated")
    assert event.detail["fields"] == ["oidc_issuer", "oidc_client_id", "oidc_client_secret"]


@pytest.mark.parametrize(
    ("issuer", "client_id"),
    [
        ("http://id.brimbank.example", "patchwork"),
        ("https://", "patchwork"),
        ("https://user:pw@id.brimbank.example", "patchwork"),
        ("https://id.brimbank.example/?q=1", "patchwork"),
        ("javascript:alert(1)", "patchwork"),
        ("https://id.brimbank.example/" + "a" * 300, "patchwork"),
        ("https://id.brimbank.example", ""),
        ("", "patchwork"),
        ("https://id.brimbank.example", "has space"),
        ("https://id.brimbank.example", "x" * 201),
    ],
)
async def test_single_sign_on_settings_are_checked(client, issuer, client_id):
    made = await as_sasha(client)
    brimbank = made["brimbank"]
    before = await support.snapshot()
    answer = await post(
        client,
        f"/admin/organisations/{brimbank.id}",
        await form_of(
            brimbank, oidc_issuer=issuer, oidc_client_id=client_id, oidc_client_secret="abc"
        ),
    )
    assert answer.status_code == 422
    assert support.changed(before, await support.snapshot()) == []


# -- the sensitive flag ----------------------------------------------------------------------


async def memberships() -> list[tuple]:
    return (
        await Membership.all()
        .order_by("id")
        .values_list("id", "discreet", "visible_since", "ended_at")
    )


async def test_the_sensitive_flag_changes_no_existing_membership(client):
    priya, aroha, sam, mia = await support.thompson_team()
    grace = await support.practitioner(
        "Grace Okafor",
        "grace.okafor@mav.example",
        await support.organisation("Municipal Association of Victoria", "mav.example"),
        role="local_admin",
        admin_areas=[await Area.get(code="AU-VIC-D03")],
    )
    await sign_in(client, grace)
    before = await memberships()
    mch = await Organisation.get(id=priya.organisation_id)  # type: ignore[attr-defined]
    westside = await Organisation.get(id=sam.organisation_id)  # type: ignore[attr-defined]
    made_sensitive = await post(
        client, f"/admin/organisations/{mch.id}", await form_of(mch, sensitive="yes")
    )
    made_open = await post(
        client, f"/admin/organisations/{westside.id}", await form_of(westside, sensitive=None)
    )
    assert made_sensitive.status_code == made_open.status_code == 303
    assert (await Organisation.get(id=mch.id)).sensitive is True
    assert (await Organisation.get(id=westside.id)).sensitive is False
    assert await memberships() == before


# -- a recent sign-in ------------------------------------------------------------------------


async def test_every_change_needs_a_sign_in_within_fifteen_minutes(client):
    made = await as_grace(client)
    brimbank = made["brimbank"]
    brimbank.oidc_issuer, brimbank.oidc_client_id = "https://id.brimbank.example", "patchwork"
    await brimbank.save()
    path = f"/admin/organisations/{brimbank.id}"
    before = await support.snapshot()
    with clock.shifted(timedelta(minutes=16)):
        assert "Sign in again first" in (await client.get(path)).text
        for target, back_to, data in (
            ("/admin/organisations/new", "%2Fadmin%2Forganisations%2Fnew", {"name": "New one"}),
            (path, f"%2Fadmin%2Forganisations%2F{brimbank.id}", await form_of(brimbank, name="X")),
            (f"{path}/sso/remove", f"%2Fadmin%2Forganisations%2F{brimbank.id}", {}),
        ):
            asked = await post(client, target, data)
            assert asked.status_code == 403 and "Please sign in again" in asked.text
            assert f'href="/signin?next={back_to}"' in asked.text
    assert support.changed(before, await support.snapshot()) == []
    # Within the window: no prompt.
    assert "Sign in again first" not in (await client.get(path)).text


# -- hostile input ---------------------------------------------------------------------------

HOSTILE = [
    {"name": ""},
    {"name": "x" * 201},
    {"name": "Melton City Council — youth services"},  # another's name, in another case
    {"service_type": "Spying"},
    {"parent_id": "99999999999999999999"},
    {"parent_id": "2147483648"},
    {"parent_id": "abc"},
    {"parent_id": "999999"},
    {"area_id": ""},
    {"area_id": "-1"},
    {"area_id": "99999999999999999999"},
    {"served": ["99999999999999999999"]},
    {"served": ["x"]},
    {"duty_phone": "call me"},
    {"duty_phone": "1" * 41},
    {"duty_email": "not-an-email"},
    {"duty_email": "a" * 250 + "@x.example"},
]
#: Only a state administrator's form sends these.
HOSTILE_SIGN_INS = [
    {"domains": "x" * 20000},
    {"oidc_client_secret": "y" * 301, "oidc_issuer": "https://id.example", "oidc_client_id": "c"},
]


@pytest.mark.parametrize(
    ("who", "change"),
    [("grace", change) for change in HOSTILE]
    + [("sasha", change) for change in HOSTILE + HOSTILE_SIGN_INS],
)
async def test_bad_input_is_a_422_form_and_changes_nothing(client, who, change):
    made = await signed_in_as(client, who)
    brimbank = made["brimbank"]
    before = await support.snapshot()
    for path in ("/admin/organisations/new", f"/admin/organisations/{brimbank.id}"):
        answer = await post(client, path, await form_of(brimbank, **change))
        assert answer.status_code == 422, (path, change)
        assert "There is a problem" in answer.text
    assert support.changed(before, await support.snapshot()) == []


async def test_hostile_requests_get_a_4xx_page(client):
    made = await as_grace(client)
    path = f"/admin/organisations/{made['brimbank'].id}"
    token = await csrf_token(client, "/admin/organisations")
    assert (await client.post(path, data={"name": "No token"})).status_code == 403
    assert (
        await client.post(
            path,
            content=b"csrf_token=" + token.encode() + b"&name=%00",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    ).status_code == 400
    for bad in ("/admin/organisations/abc", "/admin/organisations/-1", "/admin/organisations/1.5"):
        assert (await client.get(bad)).status_code == 404
    long_query = await client.get("/admin/organisations", params={"q": "é" * 5000})
    assert long_query.status_code in (200, 400, 414)


async def test_a_domain_taken_between_the_check_and_the_save_is_a_422_and_saves_nothing(
    client, monkeypatch
):
    """Two administrators saving at once: the database's unique index decides, the whole
    save is rolled back, and the form says what happened."""
    from web.admin import organisations_form

    made = await as_sasha(client)
    melton = made["melton"]

    async def unchecked(raw, own_id, looked_after):
        return [d for d in raw.split() if d], ""

    monkeypatch.setattr(organisations_form, "read_domains", unchecked)
    before = await support.snapshot()
    answer = await post(
        client,
        f"/admin/organisations/{melton.id}",
        await form_of(melton, name="Melton Youth", domains="melton.example\nbrimbank.example"),
    )
    assert answer.status_code == 422
    assert "Someone else has just used this name or one of these domains" in answer.text
    assert support.changed(before, await support.snapshot()) == []
