"""The share form's rules: what its answers must be, and the email the family gets."""

from __future__ import annotations

import re
import secrets

from starlette.datastructures import FormData

from models.clients import Client
from models.family import METHODS
from models.teams import Membership
from web.core import family
from web.core.forms import plain
from web.core.signins import normalise_email, valid_email

#: A digit: a phone number or a street address, not a name.
NUMBERS = re.compile(r"\d")
#: The random value each share form carries, so that sending it twice makes one card (a form
#: without a proper one, from an old page, still shares: once for each sending).
ATTEMPT_BYTES = 16
ATTEMPT = re.compile(r"[A-Za-z0-9_-]{22}")


def checked(form: FormData) -> tuple[dict[str, str], dict[str, str]]:
    """The form's answers, and what is wrong with them, by field."""
    attempt = str(form.get("attempt", ""))
    answers = {
        "recipient": plain(str(form.get("recipient", ""))),
        "method": str(form.get("method", "")),
        "email": normalise_email(str(form.get("email", ""))),
        "days": str(form.get("days", "")),
        # Kept ticked when the page comes back for another mistake.
        "agreed": "yes" if form.get("agreed") == "yes" else "",
        "safe": "yes" if form.get("safe") == "yes" else "",
        "attempt": attempt if ATTEMPT.fullmatch(attempt) else secrets.token_urlsafe(ATTEMPT_BYTES),
    }
    errors = {}
    if form.get("agreed") != "yes":
        errors["agreed"] = "Confirm that the person you name has agreed to get the card"
    if form.get("safe") != "yes":
        errors["safe"] = "Confirm that showing the team is safe"
    recipient = answers["recipient"]
    if not recipient:
        errors["recipient"] = "Write who will receive the card, like Jade (mother)"
    elif len(recipient) > 60:
        errors["recipient"] = "Write a name and how they are related only, up to 60 letters"
    elif "@" in recipient or NUMBERS.search(recipient):
        errors["recipient"] = "Write a name only: no email address, phone number or address"
    if answers["method"] not in METHODS:
        errors["method"] = "Choose how to give them the card"
    elif answers["method"] == "email" and not valid_email(answers["email"]):
        errors["email"] = "Enter their email address, like name@example.com"
    if answers["days"] not in {str(d) for d in family.DAY_CHOICES}:
        errors["days"] = "Choose how long the card works"
    return answers, errors


def family_email(sharer: Membership, client: Client, url: str, until: str) -> str:
    """The email to the family: the link, and who sent it (as the card shows them, if it does)."""
    child = family.first_name(client.given_name)
    who = (
        f"{family.first_name(sharer.practitioner.name)}, {sharer.role} at "
        f"{sharer.practitioner.organisation.name},"
        if family.shown_as(sharer) in ("list", "ask")  # sharing is agreeing, when asked
        else f"Someone from the team working with {child}"
    )
    return (
        f"Hello,\n\n{who} has sent you this link. It shows the people who work with {child}"
        f" and your family, and how to call them.\n\n{url}\n\n"
        f"The link works until {until}. Please keep it private: anyone with the link can see "
        "the page.\n\nIf you were not expecting this email, you can ignore it.\n\nPatchwork"
    )
