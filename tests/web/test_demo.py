"""The demo deployment: the personas and the Thompsons exactly as PRODUCT.md tells it."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

from tortoise.functions import Count

from models.areas import Area
from models.attentions import Attention
from models.circles import CircleLink
from models.clients import Client
from models.organisations import Organisation
from models.practitioners import AdminArea, Practitioner
from models.teams import Membership
from tests.conftest import empty_database
from web.demo.fabricate import load_demo


async def test_the_personas_and_the_thompson_family(db):
    await load_demo("AU-VIC", clients=300, seed=7)
    people = {p.email: p for p in await Practitioner.all().select_related("organisation")}
    priya = people["priya.nair@brimbank.example"]
    assert (priya.name, priya.job_title) == ("Priya Nair", "Maternal & Child Health Nurse")
    assert priya.organisation.name.startswith("Brimbank City Council")
    assert people["tom.walsh@wyndham.example"].job_title == "Youth Worker"
    assert "Wyndham City Council" in people["tom.walsh@wyndham.example"].organisation.name
    assert people["aroha.ngata@dffh.example"].job_title == "Child Protection Practitioner"
    sam = people["sam.lee@westsiderecovery.example"]
    assert sam.organisation.name == "Westside Recovery Service" and sam.organisation.sensitive
    grace = people["grace.okafor@mav.example"]
    held = await AdminArea.filter(practitioner=grace).values_list("area__name", flat=True)
    assert grace.role == "local_admin" and held == ["Brimbank Melton"]

    brimbank = await Area.get(name="Brimbank", kind="council")
    thompsons = {
        c.given_name: c
        for c in await Client.filter(
            family_name="Thompson", area=brimbank, given_name__in=["Mia", "Leo", "Jade"]
        )
    }
    assert thompsons["Mia"].birth_date.year == 2023 and thompsons["Leo"].birth_date.year == 2019
    assert thompsons["Jade"].birth_date.year < 2008  # an adult

    async def team(client):
        return {
            (m.practitioner.email, m.discreet)
            for m in await Membership.filter(client=client, ended_at__isnull=True).select_related(
                "practitioner"
            )
        }

    assert await team(thompsons["Mia"]) == {
        ("priya.nair@brimbank.example", False),
        ("aroha.ngata@dffh.example", False),
        ("sam.lee@westsiderecovery.example", True),
    }
    assert await team(thompsons["Leo"]) == {("tom.walsh@wyndham.example", False)}
    ids = {c.id for c in thompsons.values()}
    links = await CircleLink.filter(client_a_id__in=ids, client_b_id__in=ids)
    assert len(links) == 3  # Mia–Leo siblings, Jade parent of both


async def test_the_demo_has_the_breadth_product_md_asks_for(db):
    loaded = await load_demo("AU-VIC", clients=5000, seed=1)
    assert loaded.clients == 5000 == await Client.all().count()
    organisations = await Organisation.all()
    assert len(organisations) >= 30
    assert len({o.area_id for o in organisations}) >= 10
    assert any(o.sensitive for o in organisations)
    assert await Practitioner.all().count() >= 300
    assert await Membership.filter(ended_at__isnull=False).count() > 100  # past memberships
    assert await Attention.all().count() > 100
    assert await CircleLink.all().count() > 500
    assert await Client.filter(area__code__in=["LGA21180"]).count() > 100
    families = await Client.annotate(n=Count("id")).group_by("family_name").values("family_name")
    assert len(families) > 100  # names drawn widely, not a handful
    assert await Client.filter(family_name__contains="'").exists()
    assert await Client.filter(given_name__contains="-").exists()
    assert await Client.filter(birth_date__isnull=True, birth_year__isnull=False).exists()


async def fingerprint() -> str:
    rows = (
        await Client.all()
        .order_by("id")
        .values_list("given_name", "family_name", "birth_date", "area_id")
    )
    members = (
        await Membership.all()
        .order_by("id")
        .values_list("client_id", "practitioner_id", "discreet")
    )
    people = await Practitioner.all().order_by("id").values_list("email", "name")
    return hashlib.sha256(repr((rows, members, people)).encode()).hexdigest()


async def test_the_demo_is_deterministic_for_a_seed(db):
    await load_demo("AU-VIC", clients=500, seed=42)
    first = await fingerprint()
    await empty_database()
    await load_demo("AU-VIC", clients=500, seed=42)
    assert await fingerprint() == first
    await empty_database()
    await load_demo("AU-VIC", clients=500, seed=43)
    assert await fingerprint() != first


def test_the_command_line_migrates_loads_and_exits(tmp_path):
    """`migrate` and `load-demo` finish and exit: nothing left open keeps the process alive."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/cli.sqlite3"}
    for command in (["migrate"], ["load-demo", "--clients", "50"]):
        done = subprocess.run(
            [sys.executable, "-m", "web", *command],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    assert "Loaded the demo" in done.stdout
