"""Saving a checked organisation form: the organisation, its email domains and the council
areas it serves (the route holds the transaction and writes the audit event in it).

Changing the sensitive flag changes the organisation only: whoever joins a team afterwards
joins discreetly (or not) by it, and no existing membership is touched.

The email domains and single sign-on settings are written only when a state administrator
sent them (`Submitted.sign_ins`): anyone else's save leaves them exactly as stored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise.expressions import F

from models.organisations import Organisation, OrganisationArea, OrganisationDomain
from models.practitioners import Practitioner

if TYPE_CHECKING:
    from web.admin.organisations_form import Choices, Submitted

SSO_FIELDS = ("oidc_issuer", "oidc_client_id", "oidc_client_secret")
#: What anyone but a state administrator saves: never the single sign-on settings.
OTHER_FIELDS = (
    "name",
    "service_type",
    "parent_id",
    "area_id",
    "duty_phone",
    "duty_email",
    "sensitive",
)


async def save(
    organisation: Organisation | None, submitted: Submitted, choices: Choices
) -> Organisation:
    """Create or update the organisation, its domains and the areas it serves (the caller
    holds the transaction, and audits in it); the domains and single sign-on only when
    `submitted.sign_ins`."""
    values = submitted.values
    if organisation is not None and organisation.area_id != values["area_id"]:  # type: ignore[attr-defined]
        # Its people with no areas of their own search in its council: they search anew.
        await Practitioner.filter(organisation_id=organisation.id).update(
            scope_version=F("scope_version") + 1
        )
    made = organisation or Organisation()
    made.name = values["name"]
    made.service_type = values["service_type"]
    made.parent_id = values["parent_id"]
    made.area_id = values["area_id"]
    made.duty_phone = values["duty_phone"]
    made.duty_email = values["duty_email"]
    made.sensitive = values["sensitive"]
    if not submitted.sign_ins:
        if organisation is None:
            await made.save()  # a new one: no domains, no single sign-on
        else:
            await made.save(update_fields=[*OTHER_FIELDS])
        await replace_served(made, values["served"], choices)
        return made
    made.oidc_issuer = values["oidc_issuer"]
    made.oidc_client_id = values["oidc_client_id"]
    if submitted.new_secret:
        made.oidc_client_secret = submitted.new_secret
    if not made.oidc_issuer and not made.oidc_client_id:
        made.oidc_client_secret = ""  # no use without them, and nothing to keep secret
    await made.save()
    await replace_domains(made, set(values["domains"]))
    await replace_served(made, values["served"], choices)
    return made


async def replace_domains(organisation: Organisation, wanted: set[str]) -> None:
    held = set(
        await OrganisationDomain.filter(organisation_id=organisation.id).values_list(
            "domain", flat=True
        )
    )
    if held - wanted:
        await OrganisationDomain.filter(
            organisation_id=organisation.id, domain__in=sorted(map(str, held - wanted))
        ).delete()
    for domain in sorted(wanted - held):
        await OrganisationDomain.create(domain=domain, organisation=organisation)


async def replace_served(organisation: Organisation, wanted: set[int], choices: Choices) -> None:
    """Only the councils this administrator looks after: the others served stay as they are
    (and the council it is based in is never also "served")."""
    mine = set(choices.council_ids)
    held = set(
        await OrganisationArea.filter(organisation_id=organisation.id).values_list(
            "area_id", flat=True
        )
    )
    gone = {a for a in held if a in mine and a not in wanted} | {organisation.area_id}
    if held & gone:
        await OrganisationArea.filter(
            organisation_id=organisation.id, area_id__in=sorted(held & gone)
        ).delete()
    for area_id in sorted(wanted - held - {organisation.area_id}):
        await OrganisationArea.create(organisation=organisation, area_id=area_id)


async def clear_sso(organisation: Organisation) -> list[str]:
    """Turn single sign-on off: the names of the settings it cleared (none: nothing to do)."""
    fields = [name for name in SSO_FIELDS if getattr(organisation, name)]
    if fields:
        for name in SSO_FIELDS:
            setattr(organisation, name, "")
        await organisation.save(update_fields=list(SSO_FIELDS))
    return fields
