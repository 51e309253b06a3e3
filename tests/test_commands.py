"""The command line as an operator meets it (issue 18, "Operable"): run in a subprocess with
only the environment each test gives it."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import VAPID_PRIVATE, VAPID_PUBLIC
from tests.support import SmtpServer, free_port
from web.core import check
from web.core.settings import load, new_vapid_keys
from web.demo.data import PERSONAS

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = sorted(p.stem for p in (ROOT / "models" / "migrations").glob("[0-9]*.py"))
SECRET = "a-secret-key-nobody-may-read-0123456789"


def web(*arguments: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m web ...` with exactly `env` (and no more) as its environment."""
    return subprocess.run(
        [sys.executable, "-m", "web", *arguments],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def sqlite(path: Path) -> str:
    return f"sqlite://{path}"


@pytest.mark.parametrize(
    "command", [["migrate"], ["demo"], ["serve"], ["worker"], ["load-demo"], ["check"]]
)
def test_a_database_in_a_missing_folder_fails_at_once_naming_it(tmp_path, command):
    missing = tmp_path / "no" / "such" / "folder"
    started = time.monotonic()
    done = web(*command, env={"DATABASE_URL": sqlite(missing / "p.sqlite3")}, cwd=tmp_path)
    assert time.monotonic() - started < 10  # it used to wait forever
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip().splitlines() == [
        f"Refusing to start: DATABASE_URL: the folder {missing} does not exist "
        "(create it, or choose a path in a folder that does)"
    ]
    assert not (tmp_path / "no").exists()  # nor is it made for the development VAPID pair


def test_migrate_says_what_it_applied_then_that_nothing_is_pending(tmp_path):
    env = {"DATABASE_URL": sqlite(tmp_path / "new.sqlite3")}
    first = web("migrate", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        f"Applied {len(MIGRATIONS)} migrations:",
        *(f"  {name}" for name in MIGRATIONS),
    ]
    again = web("migrate", env=env, cwd=tmp_path)
    assert again.stdout == f"Database is up to date ({len(MIGRATIONS)} migrations).\n"
    for done in (first, again):
        assert "Tortoise" not in done.stdout + done.stderr


def test_vapid_keys_print_a_pair_where_production_is_not_configured_yet(tmp_path):
    done = web("vapid-keys", env={"ENVIRONMENT": "production"}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    found = re.fullmatch(
        r"VAPID_PUBLIC_KEY=([\w-]{87})\nVAPID_PRIVATE_KEY=([\w-]{43})\n", done.stdout
    )
    assert found, done.stdout


@pytest.mark.parametrize("environ", [{}, {"ENVIRONMENT": "production"}])
def test_help_needs_no_environment_and_shows_the_port_default(tmp_path, environ):
    assert web("--help", env=environ, cwd=tmp_path).returncode == 0
    serve = web("serve", "--help", env=environ, cwd=tmp_path)
    assert serve.returncode == 0 and "(default: $PORT, else 8000; here 8000)" in serve.stdout
    chosen = web("serve", "--help", env={**environ, "PORT": "5123"}, cwd=tmp_path)
    assert "here 5123" in chosen.stdout


def test_the_procfile_migrates_on_release_and_serves_without_port_set():
    lines = (ROOT / "Procfile").read_text().splitlines()
    assert lines == [
        "release: python -m web migrate",
        "web: python -m web serve --host 0.0.0.0",
        "worker: python -m web worker",
    ]


def configured(tmp_path: Path, smtp_url: str) -> dict[str, str]:
    database = tmp_path / "checked.sqlite3"
    assert web("migrate", env={"DATABASE_URL": sqlite(database)}, cwd=tmp_path).returncode == 0
    return {
        "DATABASE_URL": sqlite(database),
        "SECRET_KEY": SECRET,
        "SMTP_URL": smtp_url,
        "VAPID_PUBLIC_KEY": VAPID_PUBLIC,
        "VAPID_PRIVATE_KEY": VAPID_PRIVATE,
    }


def test_check_shows_the_configuration_masked_and_that_everything_answers(
    tmp_path, smtp: SmtpServer
):
    done = web("check", env=configured(tmp_path, smtp.url), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert SECRET not in done.stdout and VAPID_PRIVATE not in done.stdout
    assert re.search(r"^  SECRET_KEY +\*\*\*\*6789$", done.stdout, re.M)
    assert re.search(r"^  BASE_URL +http://localhost:8000  \(default\)$", done.stdout, re.M)
    assert f"  OK       database: answers, {len(MIGRATIONS)} migrations applied" in done.stdout
    assert f"  OK       SMTP: 127.0.0.1:{smtp.port} answers EHLO" in done.stdout
    assert "  OK       VAPID keys: a valid P-256 key pair" in done.stdout
    assert smtp.mailbox.messages == []  # it only says hello


def test_check_fails_when_the_smtp_server_does_not_answer(tmp_path):
    env = configured(tmp_path, f"smtp://127.0.0.1:{free_port()}")
    done = web("check", env=env, cwd=tmp_path)
    assert done.returncode == 1
    assert "  FAILED   SMTP: " in done.stdout and "  OK       database: " in done.stdout


def test_check_reports_a_database_not_made_yet_without_making_it(tmp_path):
    database = tmp_path / "later.sqlite3"
    done = web("check", env={"DATABASE_URL": sqlite(database)}, cwd=tmp_path)
    assert done.returncode == 1
    assert f"  FAILED   database: {database} does not exist yet" in done.stdout
    assert "  SKIPPED  SMTP: " in done.stdout and not database.exists()


def test_check_masks_passwords_in_urls():
    shown = check.describe(
        load(
            {
                "DATABASE_URL": "postgres://patchwork:db-pass-word@db:5432/patchwork",
                "SMTP_URL": "smtp+starttls://mailer:mail%20pass@mail.example:587",
            }
        ),
        {"DATABASE_URL": "…", "SMTP_URL": "…"},
    )
    text = "\n".join(shown)
    assert "postgres://patchwork:****@db:5432/patchwork" in text
    assert "smtp+starttls://mailer:****@mail.example:587" in text
    assert "db-pass-word" not in text and "mail%20pass" not in text


async def test_check_refuses_a_vapid_pair_that_does_not_belong_together():
    stranger, _private = new_vapid_keys()
    mismatched = load({"VAPID_PUBLIC_KEY": stranger, "VAPID_PRIVATE_KEY": VAPID_PRIVATE})
    with pytest.raises(check.Failed, match="not the public half"):
        await check.check_vapid(mismatched)
    garbled = load({"VAPID_PUBLIC_KEY": "nonsense", "VAPID_PRIVATE_KEY": VAPID_PRIVATE})
    with pytest.raises(check.Failed, match="P-256"):
        await check.check_vapid(garbled)


def test_a_uk_pilot_is_set_up_from_the_command_line_for_its_first_administrator(tmp_path):
    """Issue 18, item 6: load-areas (idempotent), add-organisation, then invite-admin."""
    env = {"DATABASE_URL": sqlite(tmp_path / "uk.sqlite3"), "DEPLOYMENT": "UK-PILOTS"}
    assert web("migrate", env=env, cwd=tmp_path).returncode == 0
    early = web("add-organisation", "Anyone", "--area", "E07000197", env=env, cwd=tmp_path)
    assert early.returncode == 1 and "load-areas first" in early.stderr
    first = web("load-areas", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[0] == (
        "UK-PILOTS: 1 state, 1 county, 10 councils. Added 12 areas (12 in the database)."
    )
    again = web("load-areas", env=env, cwd=tmp_path)
    assert "Added 0 areas (12 in the database)." in again.stdout and "Restart" not in again.stdout
    refused = web("invite-admin", "it.lead@staffordshire.example", env=env, cwd=tmp_path)
    assert refused.returncode == 1 and "add-organisation NAME --area CODE" in refused.stderr
    county = web("add-organisation", "Staffs", "--area", "E10000028", env=env, cwd=tmp_path)
    assert county.returncode == 1 and "'E10000028' is not a council area's code" in county.stderr
    public = ["--area", "E07000197", "--domain", "gmail.com"]
    assert (
        "public email service"
        in web("add-organisation", "X", *public, env=env, cwd=tmp_path).stderr
    )
    added = web(
        "add-organisation",
        "Staffordshire County Council",
        "--area",
        "E07000197",
        "--domain",
        "@Staffordshire.example",
        "--domain",
        "staffs.example",
        "--service-type",
        "Family Services",
        env=env,
        cwd=tmp_path,
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout == (
        "Added Staffordshire County Council (id 1) in E07000197, "
        "owning staffordshire.example, staffs.example.\n"
    )
    twice = web("add-organisation", "Other", "--area", "E07000192", "--domain", "staffs.example",
                env=env, cwd=tmp_path)  # fmt: skip
    assert (
        twice.returncode == 1 and "staffs.example already belongs to Staffordshire" in twice.stderr
    )
    invited = web("invite-admin", "it.lead@staffordshire.example", env=env, cwd=tmp_path)
    assert invited.returncode == 0, invited.stderr
    assert "Invited it.lead@staffordshire.example as an administrator." in invited.stdout
    with sqlite3.connect(tmp_path / "uk.sqlite3") as database:
        rows = database.execute(
            "SELECT o.name, o.sensitive, o.service_type, a.code, group_concat(d.domain) FROM "
            "organisation o JOIN area a ON a.id = o.area_id JOIN organisation_domain d "
            "ON d.organisation_id = o.id GROUP BY o.id"
        ).fetchall()
    assert rows == [
        ("Staffordshire County Council", 0, "Family Services", "E07000197",
         "staffordshire.example,staffs.example"),
    ]  # fmt: skip


def test_load_demo_makes_the_numbers_asked_for_with_the_personas_intact(tmp_path):
    """Issue 18, item 4: --practitioners in all (personas included), --clients in all."""
    env = {"DATABASE_URL": sqlite(tmp_path / "demo.sqlite3")}
    done = web("load-demo", "--clients", "700", "--practitioners", "120", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "120 practitioners, 700 clients," in done.stdout
    with sqlite3.connect(tmp_path / "demo.sqlite3") as database:
        count = lambda table: database.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: E731
        assert (count("practitioner"), count("client")) == (120, 700)
        personas = database.execute(
            "SELECT p.name, p.email, p.role, o.name FROM practitioner p JOIN organisation o "
            "ON o.id = p.organisation_id ORDER BY p.id LIMIT 6"
        ).fetchall()
        mia = database.execute(
            "SELECT group_concat(p.name, ', ') FROM membership m JOIN practitioner p ON "
            "p.id = m.practitioner_id JOIN client c ON c.id = m.client_id WHERE c.given_name = "
            "'Mia' AND c.family_name = 'Thompson' AND c.other_names = 'Mimi' ORDER BY m.id"
        ).fetchone()[0]
        thompsons = database.execute(
            "SELECT given_name, birth_date FROM client WHERE family_name = 'Thompson' "
            "AND id <= 3 ORDER BY id"
        ).fetchall()
    assert personas == [(p.name, p.email, p.role, p.organisation) for p in PERSONAS]
    assert mia == "Priya Nair, Aroha Ngata, Sam Lee"
    assert thompsons == [("Jade", "1997-05-20"), ("Leo", "2019-08-02"), ("Mia", "2023-03-14")]
