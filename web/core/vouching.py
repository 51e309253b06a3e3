"""Which organisation a newcomer belongs to: nobody picks their own.

An email domain an organisation owns proves it. Failing that, the invitation names one (the
inviter's own; any, for a state administrator) and the inviter vouches for it, which every
card showing the newcomer's organisation says until an administrator confirms it (the rule
is `Practitioner.organisation_vouched_only`, the wording `templates/macros/organisation.html`).
"""

from __future__ import annotations

from dataclasses import dataclass

from models.invitations import Invitation
from models.organisations import Organisation, OrganisationDomain
from models.practitioners import Practitioner
from web.core import services
from web.core.forms import MAX_ID, form_int


def domain_of(email: str) -> str:
    return email.rsplit("@", 1)[-1]


async def organisations_for(email: str) -> list[Organisation]:
    """The organisations that own an email's domain (a council may run several services)."""
    return [
        d.organisation
        for d in await OrganisationDomain.filter(domain=domain_of(email))
        .select_related("organisation")
        .order_by("organisation__name")
    ]


def may_name_any(inviter: Practitioner) -> bool:
    return inviter.role == "state_admin"


async def own_organisation(inviter: Practitioner) -> Organisation:
    """The inviter's organisation: the one read with the session, or read now."""
    loaded = inviter.organisation
    if isinstance(loaded, Organisation):
        return loaded
    await inviter.fetch_related("organisation")
    return inviter.organisation


async def nameable_organisations(inviter: Practitioner, version: int | None) -> list[Organisation]:
    """What an inviter may name: their own organisation; any, for a state administrator (from
    the organisations each process keeps, as of the request's `version`)."""
    if may_name_any(inviter):
        return list((await services.organisations(version)).organisations)
    return [await own_organisation(inviter)]


async def named_organisation(inviter: Practitioner, raw: object) -> Organisation | None:
    """The organisation an invitation form names (the inviter's own when it names none), or
    None when this inviter may not name it."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return await own_organisation(inviter)
    wanted = form_int(raw, low=1, high=MAX_ID)
    if wanted is None:
        return None
    if wanted != inviter.organisation_id and not may_name_any(inviter):
        return None
    return await Organisation.get_or_none(id=wanted)


#: Why an invitation cannot place someone in a sensitive service on the inviter's word alone.
SENSITIVE_UNVOUCHABLE = (
    "Patchwork can only add someone to a sensitive service when that service owns their email "
    "address's domain. Invite them at their work address, or ask your Patchwork administrator "
    "to add the domain."
)


async def unvouchable(email: str, organisation: Organisation) -> bool:
    """True when only the inviter's word would place `email` in a sensitive service: never
    allowed, so nobody joins a team discreetly on a discreet member's say-so alone."""
    return organisation.sensitive and not await organisations_for(email)


@dataclass(frozen=True)
class Placement:
    organisation: Organisation
    #: Set when only the inviter's word puts the newcomer there.
    vouched_by: Practitioner | None


async def placement(invitation: Invitation) -> Placement | None:
    """Where an invitee belongs: an organisation owning their domain (the named one, if it is
    among them), else the named one, vouched for by the inviter; None when nobody vouches.
    `invitation.invited_by` must be loaded."""
    inviter = invitation.invited_by
    named = invitation.organisation_id or (inviter.organisation_id if inviter else None)
    owners = await organisations_for(invitation.email)
    if owners:
        return Placement(next((o for o in owners if o.id == named), owners[0]), None)
    if inviter is None or not inviter.active or named is None:
        return None
    organisation = await Organisation.get_or_none(id=named)
    if organisation is None or organisation.sensitive:  # a sensitive service is never vouched for
        return None
    return Placement(organisation, inviter)


async def organisation_choices(practitioner: Practitioner) -> list[Organisation]:
    """What signup's step 2 offers: the organisations owning the email's domain; otherwise
    only the one the practitioner already has (the invitation's), so nobody can pick one."""
    owners = await organisations_for(practitioner.email)
    if owners:
        return owners
    await practitioner.fetch_related("organisation")
    return [practitioner.organisation]
