"""Configuration, from environment variables only (documented in README.md)."""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.config import Config, Environ

from models import default_database_url

DEFAULT_PUSH_SERVICES = (
    "https://fcm.googleapis.com/,"
    "https://updates.push.services.mozilla.com/,"
    "https://web.push.apple.com/,"
    "https://wns2-par02p.notify.windows.com/,"
    "https://android.googleapis.com/"
)


class SettingsError(RuntimeError):
    """The environment does not describe a deployment that may start."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    base_url: str
    smtp_url: str
    mail_from: str
    vapid_public_key: str
    vapid_private_key: str
    vapid_subject: str
    deployment: str
    time_zone: str
    push_allowed_endpoints: tuple[str, ...]
    environment: str
    session_idle_hours: float = 12.0
    session_absolute_days: float = 7.0
    signin_rate_per_hour: int = 10
    search_rate_per_hour: int = 60
    checkin_days: int = 90
    retention_months: int = 24
    #: Set by tests that run two servers on one host (cookies ignore ports).
    cookie_prefix: str = "pw"
    run_worker_in_web: bool = True
    #: Proxies whose X-Forwarded-For/-Proto uvicorn believes (comma-separated IPs or networks).
    forwarded_allow_ips: str = "127.0.0.1"
    #: How long a worker's claim on an outbox row lasts before another worker may take it.
    outbox_lease_seconds: float = 300.0
    #: The first retry's wait after a failed delivery (then doubling, capped at 6 hours).
    outbox_first_retry_seconds: float = 30.0
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @property
    def push_enabled(self) -> bool:
        """Web push needs a VAPID key pair (required in production, optional in development)."""
        return bool(self.vapid_public_key and self.vapid_private_key)

    @property
    def origin(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def rp_id(self) -> str:
        """WebAuthn relying-party id: the host name of BASE_URL."""
        return urlsplit(self.base_url).hostname or "localhost"

    @property
    def session_cookie(self) -> str:
        # __Host- pins the cookie to this host, path / and HTTPS only.
        return (
            f"__Host-{self.cookie_prefix}_session"
            if self.production
            else f"{self.cookie_prefix}_session"
        )

    @property
    def csrf_cookie(self) -> str:
        return (
            f"__Host-{self.cookie_prefix}_csrf" if self.production else f"{self.cookie_prefix}_csrf"
        )


def load(environ: dict[str, str] | None = None) -> Settings:
    """Read settings from the environment and refuse an unsafe production setup."""
    raw = Config(environ=Environ(environ if environ is not None else dict(os.environ)))

    def config(key: str, cast: Callable[[Any], Any] | None = None, default: Any = None) -> Any:
        """`key`'s value: its default when unset or empty (as `.env.example` leaves some), and
        a SettingsError naming it, not a traceback, when it cannot be read as `cast`."""
        if cast is None:
            return raw(key, default=default)
        if raw(key, default="") == "":
            return default
        try:
            return raw(key, cast=cast)
        except ValueError:
            kinds: dict[Any, str] = {
                bool: "true or false",
                int: "a whole number",
                float: "a number",
            }
            kind = kinds.get(cast, "readable")
            raise SettingsError(f"{key} must be {kind}, not {raw(key)!r}") from None

    environment = config("ENVIRONMENT", default="development")
    if environment not in ("development", "production"):
        raise SettingsError("ENVIRONMENT must be 'development' or 'production'")
    settings = Settings(
        database_url=config("DATABASE_URL", default=default_database_url()),
        secret_key=config("SECRET_KEY", default=""),
        base_url=config("BASE_URL", default="http://localhost:8000").rstrip("/"),
        smtp_url=config("SMTP_URL", default=""),
        mail_from=config("MAIL_FROM", default="Patchwork <patchwork@localhost>"),
        vapid_public_key=config("VAPID_PUBLIC_KEY", default=""),
        vapid_private_key=config("VAPID_PRIVATE_KEY", default=""),
        vapid_subject=config("VAPID_SUBJECT", default="mailto:patchwork@localhost"),
        deployment=config("DEPLOYMENT", default="AU-VIC"),
        time_zone=config("TIME_ZONE", default="Australia/Melbourne"),
        push_allowed_endpoints=tuple(
            p.strip()
            for p in config("PUSH_ALLOWED_ENDPOINTS", default=DEFAULT_PUSH_SERVICES).split(",")
            if p.strip()
        ),
        environment=environment,
        session_idle_hours=config("SESSION_IDLE_HOURS", cast=float, default=12.0),
        session_absolute_days=config("SESSION_ABSOLUTE_DAYS", cast=float, default=7.0),
        signin_rate_per_hour=config("SIGNIN_RATE_PER_HOUR", cast=int, default=10),
        search_rate_per_hour=config("SEARCH_RATE_PER_HOUR", cast=int, default=60),
        checkin_days=config("CHECKIN_DAYS", cast=int, default=90),
        retention_months=config("RETENTION_MONTHS", cast=int, default=24),
        cookie_prefix=config("COOKIE_PREFIX", default="pw"),
        run_worker_in_web=config(
            "RUN_WORKER_IN_WEB", cast=bool, default=environment != "production"
        ),
        forwarded_allow_ips=config("FORWARDED_ALLOW_IPS", default="127.0.0.1").strip(),
        outbox_lease_seconds=config("OUTBOX_LEASE_SECONDS", cast=float, default=300.0),
        outbox_first_retry_seconds=config("OUTBOX_FIRST_RETRY_SECONDS", cast=float, default=30.0),
    )
    _check(settings)
    if not settings.secret_key:
        # Development only: a fresh key per process start signs nothing that must survive it.
        settings = replace(settings, secret_key=secrets.token_urlsafe(32))
    return settings


def _check(settings: Settings) -> None:
    if settings.outbox_lease_seconds <= 0 or settings.outbox_first_retry_seconds <= 0:
        raise SettingsError("OUTBOX_LEASE_SECONDS and OUTBOX_FIRST_RETRY_SECONDS must be positive")
    _check_proxies(settings.forwarded_allow_ips)
    _check_database_folder(settings.database_url)
    if not settings.production:
        return
    missing = [
        name
        for name, value in (
            ("SECRET_KEY", settings.secret_key),
            ("SMTP_URL", settings.smtp_url),
            ("VAPID_PUBLIC_KEY", settings.vapid_public_key),
            ("VAPID_PRIVATE_KEY", settings.vapid_private_key),
        )
        if not value
    ]
    if missing:
        raise SettingsError(f"production needs explicit {', '.join(missing)}")
    if len(settings.secret_key) < 32:
        raise SettingsError("SECRET_KEY must be at least 32 characters in production")
    if not settings.base_url.startswith("https://"):
        raise SettingsError("production needs an https:// BASE_URL")


def _check_proxies(value: str) -> None:
    """uvicorn quietly takes a mistyped address for a name no proxy has: refuse it instead."""
    for entry in filter(None, (part.strip() for part in value.split(","))):
        try:
            if entry != "*":
                ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise SettingsError(
                f"FORWARDED_ALLOW_IPS: {entry!r} is not an IP address, a network or *"
            ) from None


def _check_database_folder(database_url: str) -> None:
    """SQLite cannot create a folder, and opening a file in a missing one hangs forever (the
    connection's thread never answers): refuse it at once instead."""
    path = sqlite_path(database_url)
    if path is not None and not path.parent.is_dir():
        raise SettingsError(
            f"DATABASE_URL: the folder {path.parent} does not exist (create it, or choose a "
            "path in a folder that does)"
        )


def sqlite_path(database_url: str) -> Path | None:
    """The file a SQLite DATABASE_URL names (None for PostgreSQL or an in-memory database)."""
    if not database_url.startswith("sqlite://") or database_url == "sqlite://:memory:":
        return None
    return Path(database_url.removeprefix("sqlite://").partition("?")[0])


def new_vapid_keys() -> tuple[str, str]:
    """A fresh VAPID key pair (public, private), base64url as the settings expect."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_numbers().private_value.to_bytes(32, "big")
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return tuple(  # type: ignore[return-value]
        base64.urlsafe_b64encode(raw).rstrip(b"=").decode() for raw in (public, private)
    )


def development_vapid_file(database_url: str) -> Path:
    """Beside the SQLite file (`patchwork.sqlite3.vapid.json`), or in the working directory."""
    path = sqlite_path(database_url)
    if path is not None:
        return path.with_name(path.name + ".vapid.json")
    return Path.cwd() / "patchwork-vapid.json"


def development_push_keys(database_url: str) -> tuple[str, str] | None:
    """The development key pair kept beside the database, if one was made (read only)."""
    try:
        keys = json.loads(development_vapid_file(database_url).read_text())
        return str(keys["public"]), str(keys["private"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def with_development_push(settings: Settings) -> Settings:
    """In development with no VAPID keys, a key pair made once and kept beside the database, so
    push can be tried with the demo (the web process and a worker read the same pair).
    Production never gets here: it refuses to start without explicit keys."""
    if settings.production or settings.push_enabled:
        return settings
    kept = development_push_keys(settings.database_url)
    if kept is None:
        kept = new_vapid_keys()
        path = development_vapid_file(settings.database_url)
        path.touch(mode=0o600)
        path.write_text(json.dumps({"public": kept[0], "private": kept[1]}))
    public, private = kept
    return replace(settings, vapid_public_key=public, vapid_private_key=private)
