"""`python -m web check`: the configuration a process would run with (secrets masked), and
whether the database, the SMTP server and the VAPID keys answer. It sends no email and writes
nothing: a database that does not exist yet is reported, not created."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import fields, replace
from urllib.parse import unquote, urlsplit

import aiosmtplib
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from web.core import db
from web.core.settings import (
    Settings,
    development_push_keys,
    development_vapid_file,
    sqlite_path,
)

#: Settings shown masked: enough of the end to tell two keys apart, never the key.
SECRETS = {"SECRET_KEY", "VAPID_PRIVATE_KEY"}
#: Settings that are URLs whose password is masked.
URLS = {"DATABASE_URL", "SMTP_URL"}
#: Seconds to wait for the database or the SMTP server before calling it unreachable.
TIMEOUT = 5.0


class Failed(Exception):
    """A check that did not pass, with what an operator should know."""


def mask(value: str) -> str:
    return f"****{value[-4:]}" if len(value) >= 20 else "****"


def mask_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":****@", 1)


def shown(name: str, value: object) -> str:
    if isinstance(value, tuple):
        return ",".join(value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    text = str(value)
    if name in SECRETS and text:
        return mask(text)
    return mask_url(text) if name in URLS else text


def describe(settings: Settings, environ: Mapping[str, str]) -> list[str]:
    """One line per setting: its name, its value as the process sees it, and where it came
    from when not from the environment."""
    lines = []
    for field in fields(settings):
        name = field.name.upper()
        if field.name == "extra":
            continue
        value = shown(name, getattr(settings, field.name)) or "(unset)"
        if name == "SECRET_KEY" and not environ.get(name):
            value = "(unset: a random key per process)"
        elif name in ("VAPID_PUBLIC_KEY", "VAPID_PRIVATE_KEY") and not environ.get(name):
            if settings.push_enabled:
                kept = development_vapid_file(settings.database_url)
                value += f"  (the development pair kept in {kept})"
        elif name not in environ:
            value += "  (default)"
        lines.append(f"  {name:<24} {value}")
    return lines


def with_kept_push_keys(settings: Settings) -> Settings:
    """As serve would run in development, the kept key pair, without making one."""
    if settings.production or settings.push_enabled:
        return settings
    kept = development_push_keys(settings.database_url)
    if kept is None:
        return settings
    return replace(settings, vapid_public_key=kept[0], vapid_private_key=kept[1])


async def check_database(settings: Settings) -> str:
    path = sqlite_path(settings.database_url)
    if path is not None and not path.exists():
        raise Failed(f"{path} does not exist yet: run `python -m web migrate`")

    async def answer() -> tuple[int, list[str]]:
        async with db.database(settings.database_url):
            await db.ping()
            return await db.migrations(settings.database_url)

    applied, pending = await asyncio.wait_for(answer(), TIMEOUT * 2)
    if pending:
        raise Failed(
            f"answers, but {len(pending)} of {applied + len(pending)} migrations are pending "
            f"({', '.join(pending)}): run `python -m web migrate`"
        )
    return f"answers, {applied} migrations applied, none pending"


async def check_smtp(settings: Settings) -> str:
    """Connect, EHLO and (with credentials in SMTP_URL) log in, as sending would; send nothing."""
    url = urlsplit(settings.smtp_url)
    implicit_tls = url.scheme == "smtps"
    port = url.port or (465 if implicit_tls else 25)
    smtp = aiosmtplib.SMTP(
        hostname=url.hostname,
        port=port,
        username=unquote(url.username) if url.username else None,
        password=unquote(url.password) if url.password else None,
        use_tls=implicit_tls,
        start_tls=url.scheme == "smtp+starttls",
        timeout=TIMEOUT,
    )
    await smtp.connect()
    try:
        greeting = (await smtp.ehlo()).message.splitlines()[0]
    finally:
        smtp.close()
    login = ", logged in" if url.username else ""
    return f"{url.hostname}:{port} answers EHLO ({greeting}){login}"


def decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


async def check_vapid(settings: Settings) -> str:
    """The private key loads, and the public key is its own."""
    try:
        private_value = int.from_bytes(decode(settings.vapid_private_key), "big")
        private = ec.derive_private_key(private_value, ec.SECP256R1())
        public = ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP256R1(), decode(settings.vapid_public_key)
        )
    except ValueError as error:
        raise Failed(f"not a P-256 key pair in base64url ({error})") from None
    mine = private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    if mine != public.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    ):
        raise Failed("VAPID_PUBLIC_KEY is not the public half of VAPID_PRIVATE_KEY")
    if not settings.vapid_subject.startswith(("mailto:", "https:")):
        raise Failed("VAPID_SUBJECT must start with mailto: or https:")
    return "a valid P-256 key pair"


async def outcome(name: str, check: Callable[[], Awaitable[str]]) -> bool:
    try:
        detail = await check()
    except Failed as failure:
        print(f"  FAILED   {name}: {failure}")
        return False
    except Exception as error:  # whatever stops a check is what the operator needs to see
        print(f"  FAILED   {name}: {type(error).__name__}: {str(error) or 'no answer'}")
        return False
    print(f"  OK       {name}: {detail}")
    return True


async def run(settings: Settings, environ: Mapping[str, str]) -> int:
    """Print the configuration and each check: 0 when every check passed, else 1."""
    settings = with_kept_push_keys(settings)
    print(f"Configuration ({settings.environment}):")
    print("\n".join(describe(settings, environ)))
    print("Checks:")
    passed = [await outcome("database", lambda: check_database(settings))]
    if settings.smtp_url:
        passed.append(await outcome("SMTP", lambda: check_smtp(settings)))
    else:
        print("  SKIPPED  SMTP: SMTP_URL is unset, so emails are printed to the console")
    if settings.push_enabled:
        passed.append(await outcome("VAPID keys", lambda: check_vapid(settings)))
    else:
        print(
            "  SKIPPED  VAPID keys: none yet (development: serve, demo and worker make a pair "
            f"in {development_vapid_file(settings.database_url)})"
        )
    return 0 if all(passed) else 1
