"""Settings come from the environment only, and production refuses unsafe ones."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from web.core.settings import (
    DEFAULT_PUSH_SERVICES,
    Settings,
    SettingsError,
    load,
    with_development_push,
)

ROOT = Path(__file__).resolve().parent.parent
SAFE_PRODUCTION = {
    "ENVIRONMENT": "production",
    "SECRET_KEY": "k" * 40,
    "BASE_URL": "https://patchwork.example",
    "SMTP_URL": "smtps://mail.example:465",
    "VAPID_PUBLIC_KEY": "public",
    "VAPID_PRIVATE_KEY": "private",
}


def test_production_starts_with_explicit_safe_settings():
    settings = load(SAFE_PRODUCTION)
    assert settings.production and settings.session_cookie.startswith("__Host-")


@pytest.mark.parametrize(
    "change, complaint",
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"BASE_URL": "http://patchwork.example"}, "https://"),
        ({"SMTP_URL": ""}, "SMTP_URL"),
        ({"VAPID_PUBLIC_KEY": ""}, "VAPID_PUBLIC_KEY"),
        ({"VAPID_PRIVATE_KEY": ""}, "VAPID_PRIVATE_KEY"),
    ],
)
def test_production_refuses_unsafe_settings(change, complaint):
    with pytest.raises(SettingsError, match=complaint):
        load({**SAFE_PRODUCTION, **change})


def test_development_defaults_work_with_nothing_set():
    settings = load({})
    assert settings.base_url == "http://localhost:8000"
    assert settings.database_url.startswith("sqlite://")
    assert len(settings.secret_key) >= 32
    assert settings.run_worker_in_web


def test_refuses_an_unknown_environment():
    with pytest.raises(SettingsError):
        load({"ENVIRONMENT": "staging"})


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        ("SEARCH_RATE_PER_HOUR", "abc", "SEARCH_RATE_PER_HOUR must be a whole number, not 'abc'"),
        ("RUN_WORKER_IN_WEB", "maybe", "RUN_WORKER_IN_WEB must be true or false, not 'maybe'"),
        ("SESSION_IDLE_HOURS", "12h", "SESSION_IDLE_HOURS must be a number, not '12h'"),
    ],
)
def test_a_value_that_cannot_be_read_is_named_not_a_traceback(variable, value, complaint):
    with pytest.raises(SettingsError, match=re.escape(complaint)):
        load({variable: value})
    started = subprocess.run(
        [sys.executable, "-m", "web", "check"],
        env={**os.environ, variable: value},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode == 2 and complaint in started.stderr
    assert "Traceback" not in started.stderr + started.stdout


def test_an_empty_value_means_the_default():
    settings = load({"RUN_WORKER_IN_WEB": "", "SEARCH_RATE_PER_HOUR": "", "CHECKIN_DAYS": ""})
    assert settings.run_worker_in_web and settings.search_rate_per_hour == 60
    assert settings.checkin_days == 90


def test_every_setting_is_documented_in_the_readme_and_env_example():
    source = (ROOT / "web" / "core" / "settings.py").read_text()
    names = set(re.findall(r'config\(\s*"([A-Z_]+)"', source))
    assert {
        "DATABASE_URL",
        "SECRET_KEY",
        "BASE_URL",
        "SMTP_URL",
        "MAIL_FROM",
        "VAPID_PUBLIC_KEY",
        "VAPID_PRIVATE_KEY",
        "VAPID_SUBJECT",
        "DEPLOYMENT",
        "TIME_ZONE",
        "PUSH_ALLOWED_ENDPOINTS",
        "ENVIRONMENT",
    } <= names
    readme = (ROOT / "README.md").read_text()
    example = (ROOT / ".env.example").read_text()
    for name in sorted(names):
        assert f"`{name}`" in readme, f"{name} is not documented in README.md"
        assert f"{name}=" in example, f"{name} is missing from .env.example"


def test_forwarded_headers_are_trusted_from_the_local_proxy_unless_told():
    assert load({}).forwarded_allow_ips == "127.0.0.1"
    chosen = load({"FORWARDED_ALLOW_IPS": "10.0.0.0/8, 192.0.2.7"})
    assert chosen.forwarded_allow_ips == "10.0.0.0/8, 192.0.2.7"
    with pytest.raises(SettingsError, match="FORWARDED_ALLOW_IPS"):
        load({"FORWARDED_ALLOW_IPS": "10.0.0.300"})


def test_serve_passes_the_trusted_proxies_to_uvicorn(monkeypatch):
    from web import commands

    passed: dict[str, object] = {}
    monkeypatch.setattr(commands.uvicorn, "run", lambda app, **options: passed.update(options))
    monkeypatch.setattr(commands.logging.getLogger("uvicorn.access"), "filters", [])
    commands.serve(load({"FORWARDED_ALLOW_IPS": "10.1.2.3"}), "0.0.0.0", 8000)
    assert passed["proxy_headers"] is True and passed["forwarded_allow_ips"] == "10.1.2.3"
    commands.serve(load({"FORWARDED_ALLOW_IPS": ""}), "0.0.0.0", 8000)
    assert passed["proxy_headers"] is False


def test_base_url_defaults_to_the_port_served_on():
    from web.__main__ import served_on

    assert load(served_on({}, 8150)).base_url == "http://localhost:8150"
    assert load(served_on({"BASE_URL": "http://x.example:1"}, 8150)).base_url == (
        "http://x.example:1"
    )
    assert load(served_on({}, None)).base_url == "http://localhost:8000"


def test_development_push_keys_are_made_once_and_kept_beside_the_database(tmp_path):
    """Issue 17: the demo can try push with no VAPID keys set; production still needs them."""
    url = f"sqlite://{tmp_path / 'demo.sqlite3'}"
    first = with_development_push(load({"DATABASE_URL": url}))
    assert first.push_enabled
    kept = tmp_path / "demo.sqlite3.vapid.json"
    assert kept.exists() and kept.stat().st_mode & 0o777 == 0o600
    again = with_development_push(load({"DATABASE_URL": url}))  # a worker, or a restart
    assert (again.vapid_public_key, again.vapid_private_key) == (
        first.vapid_public_key,
        first.vapid_private_key,
    )
    explicit = load({"DATABASE_URL": url, "VAPID_PUBLIC_KEY": "p", "VAPID_PRIVATE_KEY": "q"})
    assert with_development_push(explicit) == explicit
    with pytest.raises(SettingsError, match="VAPID"):
        load({**SAFE_PRODUCTION, "VAPID_PUBLIC_KEY": "", "VAPID_PRIVATE_KEY": ""})


def test_the_env_example_is_valid_shell_and_lists_what_the_code_reads_with_its_defaults():
    """Issue 18: `MAIL_FROM=Patchwork <…>` was a shell syntax error, and the push services
    were fewer than the code's default."""

    def shell_env(script: str) -> dict[str, str]:
        done = subprocess.run(
            ["sh", "-c", f"{script}env -0"], cwd=ROOT, env={}, capture_output=True, check=True
        )
        assert done.stderr == b"", done.stderr
        pairs = (entry.split("=", 1) for entry in done.stdout.decode().split("\0") if entry)
        return dict(pairs)

    baseline = shell_env("")
    example = {
        name: value
        for name, value in shell_env("set -a; . ./.env.example; set +a; ").items()
        if baseline.get(name) != value
    }
    source = (ROOT / "web" / "core" / "settings.py").read_text()
    read = set(re.findall(r'config\(\s*"([A-Z_]+)"', source)) | {"PORT"}  # PORT: the CLI's
    assert set(example) == read
    assert example["PUSH_ALLOWED_ENDPOINTS"] == DEFAULT_PUSH_SERVICES
    assert example["MAIL_FROM"] == "Patchwork <patchwork@localhost>"
    # Sourced unchanged, it configures what no configuration at all does.
    differ = {"database_url", "secret_key"}  # relative to the working directory; random
    as_sourced, as_default = load(example), load({})
    for name in Settings.__dataclass_fields__.keys() - differ:
        assert getattr(as_sourced, name) == getattr(as_default, name), name
    assert as_sourced.database_url == "sqlite://patchwork.sqlite3"


def test_a_sqlite_database_needs_its_folder_to_exist(tmp_path):
    missing = tmp_path / "absent"
    with pytest.raises(SettingsError, match=f"the folder {missing} does not exist"):
        load({"DATABASE_URL": f"sqlite://{missing / 'p.sqlite3'}"})
    assert load({"DATABASE_URL": f"sqlite://{tmp_path / 'p.sqlite3'}?journal_mode=wal"})
    assert load({"DATABASE_URL": "sqlite://:memory:"})
    assert load({"DATABASE_URL": "postgres://u:p@nowhere.invalid:5432/db"})
