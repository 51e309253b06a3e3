"""The command line as an operator meets it (issue 18, "Operable"): run in a subprocess with
only the environment each test gives it."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import VAPID_PRIVATE, VAPID_PUBLIC
from tests.support import SmtpServer, free_port
from web.core import check
from web.core.settings import load, new_vapid_keys

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
