"""The words that differ per deployment, kept in one place: the page language and the
examples the forms give. Everything else the app says is the same in Victoria and England."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Wording:
    #: `<html lang>`: how screen readers pronounce the page and spell checkers check it.
    lang: str
    #: The example under the work-email field (signup).
    work_email_example: str
    #: The example desk phone number (signup's phones question).
    desk_phone_example: str


WORDING = {
    "AU-VIC": Wording(
        lang="en-AU",
        work_email_example="name@council.vic.gov.au",
        desk_phone_example="03 9249 4000",
    ),
    "UK-PILOTS": Wording(
        lang="en-GB",
        work_email_example="name@council.gov.uk",
        desk_phone_example="01785 223121",
    ),
}


def wording(deployment: str) -> Wording:
    """The deployment's words (Victoria's for an unknown one: `check` shows DEPLOYMENT)."""
    return WORDING.get(deployment, WORDING["AU-VIC"])
