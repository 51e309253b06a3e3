"""Helpers shared by the tests: free ports, an SMTP sink, query counting, factories."""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import re
import socket
import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from tortoise import Tortoise, connections

from models.areas import Area
from models.clients import Client
from models.organisations import Organisation, OrganisationDomain
from models.practitioners import AdminArea, Practitioner
from models.teams import Membership
from web.core import budgets, clock
from web.core.scopes import scope_changed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Mailbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._arrived = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._arrived:
            self.messages.append(message)  # type: ignore[arg-type]
            self._arrived.notify_all()
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    async def wait_for(
        self, address: str, count: int = 1, timeout: float = 10.0
    ) -> list[EmailMessage]:
        """Wait until `address` has received `count` messages."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.to(address)) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{address} got {len(self.to(address))} of {count} emails")
            await asyncio.sleep(0.05)
        return self.to(address)


class SmtpServer:
    """A real SMTP server on 127.0.0.1 that can be stopped and started again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mailbox = Mailbox()
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def link_in(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    found = re.search(r"https?://\S+", body.get_content())
    assert found, "no link in the email"
    return found.group(0)


class QueryCounter(logging.Handler):
    """Counts the SQL statements Tortoise sends (it logs each at DEBUG)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.queries: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if budgets.STATEMENT.match(message):
            self.queries.append(message)


@contextmanager
def count_queries() -> Iterator[QueryCounter]:
    logger = logging.getLogger("tortoise.db_client")
    counter = QueryCounter()
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    try:
        yield counter
    finally:
        logger.removeHandler(counter)
        logger.setLevel(previous)


# -- factories ------------------------------------------------------------------------------


async def council(code: str = "LGA21180") -> Area:
    return await Area.get(code=code)


async def organisation(
    name: str = "Brimbank City Council — Maternal & Child Health",
    domain: str = "brimbank.example",
    sensitive: bool = False,
    area_code: str = "LGA21180",
) -> Organisation:
    found = await Organisation.get_or_none(name=name)
    if found:
        return found
    made = await Organisation.create(
        name=name,
        service_type="Maternal & Child Health",
        area=await council(area_code),
        sensitive=sensitive,
    )
    await OrganisationDomain.create(domain=domain, organisation=made)
    return made


async def sso_organisation(
    oidc: Any,
    name: str = "Brimbank City Council — Maternal & Child Health",
    domain: str = "brimbank.example",
) -> Organisation:
    """An organisation that signs its people in through the test OpenID provider."""
    org = await organisation(name, domain)
    org.oidc_issuer, org.oidc_client_id, org.oidc_client_secret = (
        oidc.issuer,
        oidc.client_id,
        oidc.client_secret,
    )
    await org.save()
    return org


async def practitioner(
    name: str = "Priya Nair",
    email: str = "priya.nair@brimbank.example",
    org: Organisation | None = None,
    **fields: Any,
) -> Practitioner:
    admin_areas = fields.pop("admin_areas", ())
    made = await Practitioner.create(
        name=name,
        email=email,
        job_title=fields.pop("job_title", "Maternal & Child Health Nurse"),
        organisation=org or await organisation(),
        phone=fields.pop("phone", "03 5550 1234"),
        **fields,
    )
    for area in admin_areas:
        await AdminArea.create(practitioner=made, area=area)
    return made


async def local_admin(
    email: str = "grace.okafor@brimbank.example", org: Organisation | None = None
) -> Practitioner:
    """Grace Okafor, local administrator of the Brimbank Melton district (AU-VIC-D03: the
    Brimbank and Melton councils; Wyndham is outside it)."""
    district = await Area.get(code="AU-VIC-D03")
    return await practitioner(
        "Grace Okafor", email, org, role="local_admin", admin_areas=[district]
    )


async def client(given: str = "Mia", family: str = "Thompson", **fields: Any) -> Client:
    """A client, indexed for search as the app does."""
    from web.core.name_index import index_clients

    made = await Client.create(
        given_name=given,
        family_name=family,
        birth_date=fields.pop("birth_date", date(2023, 3, 14)),
        area=fields.pop("area", None) or await council(),
        **fields,
    )
    await index_clients([made])
    return made


async def member(client: Client, practitioner: Practitioner, **fields: Any) -> Membership:
    moment = clock.now()
    started = fields.pop("started_at", moment)
    discreet = fields.get("discreet", False)
    made = await Membership.create(
        client=client,
        practitioner=practitioner,
        role=fields.pop("role", practitioner.job_title),
        started_at=started,
        last_confirmed_at=moment,
        visible_since=fields.pop("visible_since", None if discreet else started),
        **fields,
    )
    await scope_changed(practitioner.id)  # as joining does: their search scopes are read again
    return made


async def thompson_team() -> tuple[Practitioner, Practitioner, Practitioner, Client]:
    """Mia's team: Priya and Aroha visible, Sam (Westside Recovery) discreet."""
    priya = await practitioner(mobile="0491 570 156")
    dffh = await organisation("DFFH — Child Protection", "dffh.example")
    aroha = await practitioner(
        "Aroha Ngata",
        "aroha.ngata@dffh.example",
        dffh,
        job_title="Child Protection Practitioner",
        phone="03 5550 3456",
    )
    westside = await organisation(
        "Westside Recovery Service", "westsiderecovery.example", sensitive=True
    )
    sam = await practitioner(
        "Sam Lee",
        "sam.lee@westsiderecovery.example",
        westside,
        job_title="Clinician",
        phone="03 5550 4567",
        mobile="0491 570 159",
    )
    mia = await client(other_names="Mimi")
    long_ago = clock.now() - timedelta(days=400)
    await member(mia, priya, started_at=long_ago, last_contact_on=clock.today() - timedelta(days=3))
    await member(mia, aroha)
    await member(mia, sam, discreet=True)
    return priya, aroha, sam, mia


async def thompson_siblings() -> tuple[Practitioner, ...]:
    """Mia's team, plus her brother Leo, on the teams of Tom (a youth worker) and Priya.
    Returns priya, aroha, sam, tom, mia, leo."""
    priya, aroha, sam, mia = await thompson_team()
    tom = await practitioner("Tom Walker", "tom.walker@brimbank.example", job_title="Youth Worker")
    leo = await client("Leo", birth_date=date(2019, 6, 2))
    await member(leo, tom)
    await member(leo, priya)
    return priya, aroha, sam, tom, mia, leo  # type: ignore[return-value]


# -- what is stored ------------------------------------------------------------------------

#: Tables that record attempts by design: a refusal may add rows, never change one.
LEDGERS = {"audit_event", "rate_limit_hit"}
#: Reference data (large rows, no route writes it): compared once per example, not per request.
REFERENCE = ("area",)
#: Columns every signed-in request may touch (the session's last use).
VOLATILE = {"session": {"last_seen_at"}}


async def snapshot(reference: bool = False) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (or of the reference tables), in primary-key order."""
    connection = connections.get("default")
    models = [
        m for m in Tortoise.apps["models"].values() if (m._meta.db_table in REFERENCE) == reference
    ]
    results = await asyncio.gather(
        *(
            connection.execute_query_dict(
                f'SELECT * FROM "{m._meta.db_table}" ORDER BY "{m._meta.db_pk_column}"'
            )
            for m in models
        )
    )
    tables = {}
    for model, rows in zip(models, results, strict=True):
        skip = VOLATILE.get(model._meta.db_table, set())
        tables[model._meta.db_table] = [
            tuple(sorted((k, v) for k, v in row.items() if k not in skip)) for row in rows
        ]
    return tables


def changed(
    before: dict[str, list[Any]],
    after: dict[str, list[Any]],
    ledgers: Collection[str] = LEDGERS,
) -> list[str]:
    """Tables a refusal changed (a ledger may only have gained rows at its end; pass
    `ledgers=()` where a refusal may not even add one)."""
    return [
        table
        for table, rows in after.items()
        if (rows[: len(before[table])] if table in ledgers else rows) != before[table]
    ]
