"""What is wrong with inviting each row of a staff list, checked in a handful of queries
whatever its length: the same checks before the preview and again just before sending (what
was true an hour ago may not be now).

A row is good when it has a name and a valid work email seen nowhere earlier in the file, nobody
on Patchwork has that email and no invitation to it is waiting, and it names an organisation
based in the administrator's councils which the email's domain does not contradict: when an
organisation owns the domain, the newcomer joins it (web/core/vouching.py), so the row must
name it; a sensitive service can only be joined with its own domain.
"""

from __future__ import annotations

from collections import defaultdict
from difflib import get_close_matches

from models.invitations import Invitation
from models.organisations import Organisation, OrganisationDomain
from models.practitioners import Practitioner
from web.admin.onboarding_csv import Row, organisation_key
from web.core import vouching
from web.core.auth import now
from web.core.signins import valid_email

MAX_TEXT = 120  # a practitioner's name and job title columns


async def check(rows: list[Row], looked_after: list[int] | None) -> None:
    """Fill in each row's organisation and problems."""
    emails = sorted({r.email for r in rows if valid_email(r.email)})
    on_patchwork = set(await Practitioner.filter(email__in=emails).values_list("email", flat=True))
    waiting = set(
        await Invitation.filter(
            email__in=emails,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=now(),
        ).values_list("email", flat=True)
    )
    organisations = {organisation_key(o.name): o for o in await Organisation.all()}
    ours = sorted(
        o.name
        for o in organisations.values()
        if looked_after is None or o.area_id in looked_after  # type: ignore[attr-defined]
    )
    owners: dict[str, list[Organisation]] = defaultdict(list)
    domains = sorted({vouching.domain_of(e) for e in emails})
    for owned in await OrganisationDomain.filter(domain__in=domains).select_related("organisation"):
        owners[owned.domain].append(owned.organisation)
    first_seen: dict[str, int] = {}
    for row in rows:
        row.problems = []
        # The send step brings each row's organisation by id; a preview, only its name.
        row.organisation = row.organisation or organisations.get(
            organisation_key(row.organisation_name)
        )
        if not row.name:
            row.problems.append("Name missing")
        elif len(row.name) > MAX_TEXT:
            row.problems.append(f"Name longer than {MAX_TEXT} characters")
        if len(row.job_title) > MAX_TEXT:
            row.problems.append(f"Job title longer than {MAX_TEXT} characters")
        if not row.email:
            row.problems.append("Work email missing")
        elif not valid_email(row.email):
            row.problems.append("Not an email address")
        elif row.email in first_seen:
            row.problems.append(f"Same email as row {first_seen[row.email]}")
        elif row.email in on_patchwork:
            row.problems.append("Already on Patchwork")
        elif row.email in waiting:
            row.problems.append("An invitation to this address is already waiting")
        if valid_email(row.email):
            first_seen.setdefault(row.email, row.line)
        row.problems += await organisation_problems(row, owners, looked_after)
        if row.organisation_name and row.problems[-1:] == [unknown(row)]:
            row.problems[-1] += suggestion(row.organisation_name, ours)


async def organisation_problems(
    row: Row, owners: dict[str, list[Organisation]], looked_after: list[int] | None
) -> list[str]:
    named = row.organisation
    if not row.organisation_name:
        return ["Organisation missing"]
    # Unknown and outside one's areas read alike: the preview tells nothing of other areas.
    if named is None or (looked_after is not None and named.area_id not in looked_after):
        return [unknown(row)]
    if not valid_email(row.email):
        return []
    domain_owners = owners.get(vouching.domain_of(row.email), [])
    if domain_owners and named.id not in {o.id for o in domain_owners}:
        owner = domain_owners[0]
        seen = looked_after is None or owner.area_id in looked_after  # type: ignore[attr-defined]
        return [
            f"Their email address belongs to {owner.name if seen else 'another organisation'}, "
            f"which they would join instead of {named.name}"
        ]
    if named.sensitive and await vouching.unvouchable(row.email, named):
        return [
            f"{named.name} is a sensitive service: only an address in its own email domain can "
            "join it"
        ]
    return []


def unknown(row: Row) -> str:
    return f"No organisation called “{row.organisation_name}” in your areas"


def suggestion(typed: str, ours: list[str]) -> str:
    """ " Did you mean …?" with up to three of one's own organisations the name begins, or
    the closest one, or nothing."""
    key = organisation_key(typed)
    starting = [name for name in ours if organisation_key(name).startswith(key)][:3]
    close = starting or get_close_matches(typed, ours, n=1, cutoff=0.6)
    return f". Did you mean {' or '.join(f'“{name}”' for name in close)}?" if close else ""
