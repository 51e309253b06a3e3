"""What each audit event means, in words: the one list of actions the audit log offers, who
did it, and its detail made readable without a client's name."""

from __future__ import annotations

import json
from typing import Any

#: Every action Patchwork records (a test checks the code writes no other), its label, and
#: the group the event-type filter lists it under.
GROUPS: dict[str, dict[str, str]] = {
    "Clients and teams": {
        "team.viewed": "Viewed the client's team",
        "team.refused": "Was refused the client's team",
        "client.searched": "Searched for clients",
        "client.search_refused": "Was refused a search (hourly limit)",
        "directory.searched": "Searched for colleagues and services",
        "team.join_opened": "Opened the client's join page",
        "team.join_refused": "Was refused a join page (no search first)",
        "team.join_limited": "Was refused joining (hourly limit)",
        "client.added": "Added the client",
        "team.joined": "Joined the client's team",
        "team.left": "Left the client's team",
        "team.visibility": "Changed whether the team sees them",
        "team.lead_named": "Named the team's lead professional",
        "team.lead_cleared": "Recorded that the team has no lead professional",
        "team.confirmed": "Confirmed their involvement",
        "team.contact": "Recorded contact with the client",
        "team.invited": "Invited someone to the client's team",
        "team.meeting": "Organised a team meeting",
        "team.join_code": "Made a join code",
        "team.join_code_used": "Joined with a join code",
        "family_card.shared": "Shared the team with the family (a card)",
        "family_card.opened": "The family opened their card (first time that day)",
        "family_card.withdrawn": "Withdrew the family's card",
        "family_card.listed": "Agreed, or stopped agreeing, to be on a family's card",
        "family_card.listing": "Chose whether the team's family cards list them",
        "attention.raised": "Raised an attention",
        "attention.resolved": "Resolved an attention",
        "circle.linked": "Linked clients in a circle",
        "circle.unlinked": "Unlinked clients in a circle",
        "client.removed": "Removed the client (retention)",
    },
    "Signing in and signing up": {
        "signin.requested": "Asked for a sign-in link",
        "signin.succeeded": "Signed in",
        "signin.failed": "Failed to sign in",
        "signin.refused": "Was refused signing in",
        "signin.capped": "Reached the sign-in email limit",
        "signout": "Signed out",
        "session.ended": "Ended a signed-in device",
        "passkey.registered": "Added a passkey",
        "passkey.renamed": "Renamed a passkey",
        "passkey.removed": "Removed a passkey",
        "passkey.refused": "Was refused adding a passkey",
        "signup.requested": "Asked to sign up",
        "signup.started": "Started signing up from an invitation",
        "signup.refused": "Was refused signing up",
        "signup.completed": "Finished signing up",
        "walkthrough.finished": "Finished the walkthrough",
    },
    "Invitations and profile": {
        "invitation.sent": "Sent an invitation",
        "invitation.resent": "Resent an invitation",
        "invitation.revoked": "Withdrew an invitation",
        "invitation.refused": "Was refused an invitation (hourly limit)",
        "invitation.organisation": "Was placed in an organisation by an invitation",
        "profile.updated": "Updated their profile",
        "profile.areas": "Changed their areas",
        "push.subscribed": "Turned on push alerts",
        "push.unsubscribed": "Turned off push alerts",
    },
    "Administration": {
        "admin.changed": "Made an administrative change",
        "admin.viewed": "Looked at an administration page",
        "admin.exported": "Downloaded from administration",
        "job.retention": "Ran the daily retention",
        "job.digest": "Sent the 07:00 digests",
    },
}
LABELS: dict[str, str] = {
    action: label for group in GROUPS.values() for action, label in group.items()
}
#: Viewing or exporting the log is itself audited; those events are listed only when asked
#: for by type, so the log does not fill with its own views.
OWN_VIEWS = ("admin.viewed", "admin.exported")
#: Done by Patchwork itself, not by a person.
BY_PATCHWORK = frozenset({"job.retention", "job.digest", "client.removed"})
#: A search's words and date of birth are a client's name and birthday: never shown here.
WITHHELD = frozenset({"terms", "born"})
SCOPES = {
    "local": "in their areas",
    "district": "elsewhere in the district",
    "state": "elsewhere in the state",
    "duplicates": "for likely duplicates of a new client",
    "join": "opening a join page",
}
KEY_LABELS = {
    "method": "By",
    "reason": "Reason",
    "results": "Results",
    "what": "Change",
    "invited": "Invited",
    "code_id": "Join code",
    "card_id": "Family card",
    "attention_id": "Attention",
    "link_id": "Circle link",
    "other_client_id": "Other client",
    "invitation_id": "Invitation",
    "organisation_id": "Organisation",
    "passkey_id": "Passkey",
    "session_id": "Session",
    "areas": "Areas",
    "vouched_by": "Vouched for by practitioner",
    "filters": "Filters",
}


def label(action: str) -> str:
    return LABELS.get(action, action)


def who(action: str, actor: dict[str, Any] | None, actor_id: int | None) -> tuple[str, str]:
    """(name, email) of whoever did it, or what to say instead."""
    if actor is not None:
        return str(actor["name"]), str(actor["email"])
    if actor_id is not None:
        return "Someone no longer on Patchwork", ""
    if action in BY_PATCHWORK or action.startswith("job."):
        return "Patchwork", ""
    return "Someone not signed in", ""


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_value(v) for v in value) or "none"
    if isinstance(value, dict):
        return "; ".join(f"{k} {_value(v)}" for k, v in sorted(value.items())) or "none"
    if value is None or value == "":
        return "none"
    return str(value) if isinstance(value, str | int | float) else json.dumps(value)


def describe(detail: dict[str, Any] | Any) -> str:
    """The detail in words, keys in name order (PostgreSQL's jsonb keeps no other), a
    search's words withheld: "Results: 3 · In their areas"."""
    if not isinstance(detail, dict):
        return _value(detail) if detail else ""
    parts = []
    for key, value in sorted(detail.items()):
        if key in WITHHELD:
            if key == "terms":
                parts.append("Words searched: not shown")
            continue
        if key == "tab":  # the team page's tab, from its path: /clients/12 is the team itself
            parts.append(f"Page: {'team' if str(value).isdigit() else _value(value)}")
        elif key == "scope":
            parts.append(SCOPES.get(str(value), f"Scope {_value(value)}").capitalize())
        elif key == "discreet":
            parts.append("Discreetly" if value else "Visibly")
        elif key == "known":
            parts.append("Address on Patchwork" if value else "Address not on Patchwork")
        elif key == "existing":
            parts.append("Already on Patchwork" if value else "New to Patchwork")
        elif key == "alerted":
            parts.append("Alerted" if value else "Not alerted")
        else:
            name = KEY_LABELS.get(key, key.replace("_", " ").capitalize())
            parts.append(f"{name}: {_value(value)}")
    return " · ".join(parts)
