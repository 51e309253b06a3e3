"""The organisation form: what it offers an administrator (councils and parent organisations
within what they look after), and reading what they sent into checked values and errors.

The client secret is read here into `Submitted.new_secret` and nowhere else: it never goes
into `values`, which is all a template sees.

Email domains and single sign-on decide whose sign-ins the organisation vouches for, so only
a state administrator sets them: for anyone else they are not read from the form at all but
kept as stored (none, for a new organisation).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData
from tortoise.expressions import Q

from models.areas import Area
from models.organisations import SERVICE_TYPES, Organisation, OrganisationArea, OrganisationDomain
from web.admin.organisations_sso import sso_problem
from web.core.forms import MAX_ID, form_int
from web.core.signins import normalise_email, valid_email

#: Column lengths (models/organisations.py): longer text is an error, never a database error.
LIMITS = {
    "name": 200,
    "duty_phone": 40,
}
MAX_DOMAINS = 50
#: Lower-case ASCII host names with at least one dot, e.g. "brimbank.vic.gov.au".
DOMAIN = re.compile(
    r"(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})"
)
#: Public email services: anyone can have an address at one, so none is an organisation's.
PUBLIC_MAIL_DOMAINS = frozenset(
    """
    aol.com bigpond.com bigpond.net.au fastmail.com gmail.com gmx.com gmx.net googlemail.com
    hotmail.com hotmail.com.au icloud.com live.com live.com.au mac.com mail.com me.com msn.com
    optusnet.com.au outlook.com outlook.com.au proton.me protonmail.com tpg.com.au yahoo.com
    yahoo.com.au yandex.com ymail.com zoho.com
    """.split()
)
PHONE = re.compile(r"[0-9+() .-]+")
#: The values only a state administrator may set (the client secret is never in `values`).
SIGN_IN_VALUES = ("domains", "oidc_issuer", "oidc_client_id")
#: How each value is named in the audit trail's `fields`.
AUDITED = {
    "name": "name",
    "service_type": "service_type",
    "parent_id": "parent",
    "area_id": "area",
    "served": "areas_served",
    "duty_phone": "duty_phone",
    "duty_email": "duty_email",
    "domains": "domains",
    "sensitive": "sensitive",
    "oidc_issuer": "oidc_issuer",
    "oidc_client_id": "oidc_client_id",
}


@dataclass(frozen=True)
class Choices:
    """What the form offers: councils grouped by district, and the possible parents."""

    districts: list[tuple[Area, list[Area]]]
    council_ids: frozenset[int]
    parents: list[Organisation]
    #: Council areas it serves outside the administrator's: shown, and kept as they are.
    served_elsewhere: list[Area]


@dataclass(frozen=True)
class Submitted:
    """A form read and checked: `values` to save or show again, `errors` by field id."""

    values: dict[str, Any]
    errors: dict[str, str]
    new_secret: str
    #: A secret was typed but the form is shown again: it is not kept, so say so.
    secret_dropped: bool
    #: Whether the domains and single sign-on were read from the form (a state
    #: administrator's) or are the stored ones, which saving then leaves alone.
    sign_ins: bool


def descendants(organisation_id: int, graph: list[tuple[int, int | None]]) -> set[int]:
    """Every organisation beneath this one, however deep (a cycle ends the walk)."""
    children: dict[int, list[int]] = {}
    for child, parent in graph:
        if parent is not None:
            children.setdefault(parent, []).append(child)
    found: set[int] = set()
    waiting = [organisation_id]
    while waiting:
        for child in children.get(waiting.pop(), []):
            if child not in found and child != organisation_id:
                found.add(child)
                waiting.append(child)
    return found


async def choices_for(
    districts: list[tuple[Area, list[Area]]], visible: Q, organisation: Organisation | None
) -> Choices:
    """The councils looked after (`districts`), and as parents the organisations `visible`
    (based in them), never the organisation itself or one beneath it; its current parent
    stays offered wherever it is based."""
    council_ids = frozenset(c.id for _district, councils in districts for c in councils)
    parents = await Organisation.filter(visible).order_by("name").only("id", "name")
    elsewhere: list[Area] = []
    if organisation is not None:
        graph = await Organisation.all().values_list("id", "parent_id")
        excluded = descendants(organisation.id, graph) | {organisation.id}  # type: ignore[arg-type]
        parents = [p for p in parents if p.id not in excluded]
        if organisation.parent_id and organisation.parent_id not in {p.id for p in parents}:
            current = await Organisation.get_or_none(id=organisation.parent_id).only("id", "name")
            parents = sorted([*parents, *([current] if current else [])], key=lambda p: p.name)
        elsewhere = await Area.filter(
            served_by__organisation_id=organisation.id, id__not_in=list(council_ids)
        ).order_by("name")
    return Choices(districts, council_ids, parents, elsewhere)


async def stored_sign_ins(organisation: Organisation | None) -> dict[str, Any]:
    """The organisation's email domains and single sign-on settings as stored, as form values
    (none for a new organisation; never the client secret)."""
    if organisation is None:
        return {"domains": [], "domains_text": "", "oidc_issuer": "", "oidc_client_id": ""}
    held = OrganisationDomain.filter(organisation_id=organisation.id)
    domains = sorted(map(str, await held.values_list("domain", flat=True)))
    return {
        "domains": domains,
        "domains_text": "\n".join(domains),
        "oidc_issuer": organisation.oidc_issuer,
        "oidc_client_id": organisation.oidc_client_id,
    }


async def values_of(organisation: Organisation | None, choices: Choices) -> dict[str, Any]:
    """What the form shows for an organisation (blank for a new one)."""
    if organisation is None:
        return {
            "name": "",
            "service_type": "",
            "parent_id": None,
            "area_id": next(iter(sorted(choices.council_ids)), None)
            if len(choices.council_ids) == 1
            else None,
            "served": set(),
            "duty_phone": "",
            "duty_email": "",
            "sensitive": False,
            **await stored_sign_ins(None),
        }
    served = await OrganisationArea.filter(
        organisation_id=organisation.id, area_id__in=list(choices.council_ids)
    ).values_list("area_id", flat=True)
    return {
        "name": organisation.name,
        "service_type": organisation.service_type,
        "parent_id": organisation.parent_id,
        "area_id": organisation.area_id,
        "served": {int(str(a)) for a in served},
        "duty_phone": organisation.duty_phone,
        "duty_email": organisation.duty_email,
        "sensitive": organisation.sensitive,
        **await stored_sign_ins(organisation),
    }


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def too_long(name: str, value: str) -> bool:
    return len(value) > LIMITS[name]


async def read(
    form: FormData,
    organisation: Organisation | None,
    choices: Choices,
    looked_after: list[int] | None,
    *,
    sign_ins: bool,
) -> Submitted:
    """Check every field; the errors name each problem in words an administrator can act on.
    Without `sign_ins` (anyone but a state administrator) the domains and single sign-on
    settings sent are ignored, never checked: the stored ones stand."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {
        key: text(form, key) for key in AUDITED if key != "served" and key not in SIGN_IN_VALUES
    }
    own_id = organisation.id if organisation else None

    name = " ".join(values["name"].split())
    values["name"] = name
    if not name:
        errors["name"] = "Enter the organisation's name"
    elif too_long("name", name):
        errors["name"] = f"Enter a name of at most {LIMITS['name']} characters"
    elif await Organisation.filter(name__iexact=name).exclude(id=own_id).exists():
        errors["name"] = "Another organisation already has this name: choose another"

    if values["service_type"] not in SERVICE_TYPES:
        errors["service_type"] = "Choose the kind of service from the list"

    parent = values["parent_id"]
    values["parent_id"] = form_int(parent, low=1, high=MAX_ID) if parent else None
    if parent and values["parent_id"] not in {p.id for p in choices.parents}:
        errors["parent_id"] = "Choose a parent organisation from the list, or none"

    values["area_id"] = form_int(values["area_id"], low=1, high=MAX_ID)
    if values["area_id"] not in choices.council_ids:
        errors["area_id"] = "Choose the council area the organisation is based in"

    served = {form_int(raw, low=1, high=MAX_ID) for raw in form.getlist("served")}
    if not served <= choices.council_ids:
        errors["served"] = "Choose the council areas served from the list"
    values["served"] = {a for a in served if a in choices.council_ids and a != values["area_id"]}

    phone = values["duty_phone"]
    if phone and (
        too_long("duty_phone", phone)
        or not PHONE.fullmatch(phone)
        or sum(c.isdigit() for c in phone) < 6
    ):
        errors["duty_phone"] = "Enter the duty phone number, like 03 9249 4000"
    values["duty_email"] = normalise_email(values["duty_email"])
    if values["duty_email"] and not valid_email(values["duty_email"]):
        errors["duty_email"] = "Enter the duty email address, like intake@brimbank.vic.gov.au"

    values["sensitive"] = form.get("sensitive") == "yes"

    if not sign_ins:
        values.update(await stored_sign_ins(organisation))
        return Submitted(values, errors, "", False, False)

    raw_domains = text(form, "domains")
    values["domains_text"] = raw_domains
    domains, problem = await read_domains(raw_domains, own_id, looked_after)
    values["domains"] = sorted(domains)
    if problem:
        errors["domains"] = problem

    values["oidc_issuer"] = text(form, "oidc_issuer")
    values["oidc_client_id"] = text(form, "oidc_client_id")
    new_secret = text(form, "oidc_client_secret")
    sso = sso_problem(
        values, new_secret, stored=bool(organisation and organisation.oidc_client_secret)
    )
    if sso:
        errors[sso[0]] = sso[1]
    dropped = bool(errors and new_secret)
    return Submitted(values, errors, new_secret if not errors else "", dropped, True)


async def read_domains(
    raw: str, own_id: int | None, looked_after: list[int] | None
) -> tuple[list[str], str]:
    """Domains one a line (commas and spaces also separate them; a leading "@" is dropped),
    lower-cased and unique: an error when one is malformed, a public email service's or
    another organisation's, naming that organisation only when this administrator may see it."""
    # In the order typed, so an error names the first problem.
    wanted = list(
        dict.fromkeys(d.lower().lstrip("@") for d in re.split(r"[\s,;]+", raw) if d.strip("@"))
    )
    if len(raw) > MAX_DOMAINS * 254 or len(wanted) > MAX_DOMAINS:
        return wanted[:MAX_DOMAINS], f"Enter at most {MAX_DOMAINS} email domains"
    for domain in wanted:
        if "@" in domain:
            return wanted, f"Enter just the part after the @ ({domain.rsplit('@', 1)[-1]})"
        if not DOMAIN.fullmatch(domain):
            return wanted, f"“{domain[:60]}” is not an email domain, like brimbank.vic.gov.au"
        if domain in PUBLIC_MAIL_DOMAINS:
            return wanted, (
                f"{domain} is a public email service: anyone can have an address there, so it "
                "cannot be an organisation's domain"
            )
    taken = (
        await OrganisationDomain.filter(domain__in=wanted)
        .exclude(organisation_id=own_id)
        .select_related("organisation")
        .order_by("domain")
        .first()
    )
    if taken is None:
        return wanted, ""
    owner = taken.organisation
    if looked_after is None or owner.area_id in looked_after:
        return wanted, f"{taken.domain} already belongs to {owner.name}"
    return wanted, f"{taken.domain} already belongs to another organisation"
