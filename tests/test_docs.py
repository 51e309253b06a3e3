"""README's promises: exactly two quick-start commands, and CI runs the second one."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from web.commands import RedactAccessLog

ROOT = Path(__file__).resolve().parent.parent


def quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_the_quick_start_has_exactly_two_commands():
    run, test = quick_start_commands()
    assert run.endswith("python -m web demo")
    assert test.endswith("python -m tests")


def test_ci_runs_the_readme_test_command_then_postgresql():
    ci = (ROOT / ".ci" / "run").read_text()
    _run, test = quick_start_commands()
    assert test in ci
    assert "TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test" in ci


def test_ci_runs_the_sqlite_pass_23_hours_from_melbourne_and_postgresql_in_the_machines_zone():
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    _run, test = quick_start_commands()
    sqlite = lines.index(test)
    postgres = next(n for n, line in enumerate(lines) if line.startswith("TEST_DATABASE_URL="))
    assert "export TZ=Etc/GMT+12" in lines[:sqlite]
    restored = [n for n, line in enumerate(lines) if "unset TZ" in line]
    assert restored and sqlite < restored[0] < postgres


def test_the_procfile_migrates_then_runs_web_and_worker():
    procfile = (ROOT / "Procfile").read_text()
    assert re.search(r"^release: python -m web migrate$", procfile, re.M)
    assert re.search(r"^web: python -m web serve --host 0.0.0.0$", procfile, re.M)
    assert re.search(r"^worker: python -m web worker$", procfile, re.M)


def test_access_logs_keep_paths_but_drop_query_strings():
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/signin/link?token=secret", "1.1", 200),
        None,
    )
    assert RedactAccessLog().filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /signin/link HTTP/1.1" 200'


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/invitations/Abc-123_xyz", "/invitations/[token]"),
        ("/invitations/12/resend", "/invitations/12/resend"),
        ("/invitations", "/invitations"),
    ],
)
def test_access_logs_keep_no_invitation_token(path, logged):
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, "%s %s %s", ("ip", "GET", path), None
    )
    assert RedactAccessLog().filter(record)
    assert record.getMessage() == f"ip GET {logged}"
