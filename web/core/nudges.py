"""What the dashboard suggests next: the walkthrough's step, and a passkey after a link sign-in.

The walkthrough's pages and forms are web/signup/guide.py; creating a passkey is
web/signin/passkeys.py. The dashboard (web/clients/) only asks these questions.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from models.practitioners import Practitioner
from web.core.auth import me
from web.core.forms import MAX_ID, form_int


@dataclass(frozen=True)
class TourStep:
    title: str
    text: str
    link: str
    link_label: str
    highlight: str  # the navigation item this step points at


TOUR = (
    TourStep(
        "Find a client",
        "Search with two parts of a name — “jo smi” finds Jo Smith. Results in your "
        "areas come first, and you can join a team straight from a result.",
        "/clients/search",
        "Try a search",
        "search",
    ),
    TourStep(
        "See the team",
        "A client's page shows everyone working with them: tap to call, email the whole team, "
        "or arrange a meeting. Only members can see it.",
        "/",
        "Your clients are listed below",
        "clients",
    ),
    TourStep(
        "Raise an attention",
        "On a team's Attentions tab, flag that the team should talk — “missed two "
        "appointments, please call me”. It is a flag, not a place for case notes.",
        "/",
        "Open a client, then Attentions",
        "clients",
    ),
    TourStep(
        "Stay in the loop",
        "Patchwork tells you when your teams change, in the app, by email or as a push "
        "notification. Choose how in your profile.",
        "/profile#alerts",
        "Choose your alerts",
        "profile",
    ),
)


def tour_step(request: Request, practitioner: Practitioner) -> int:
    """Which walkthrough step the dashboard shows (1-based), or 0 for none."""
    if practitioner.walkthrough_done:
        return 0
    asked = request.query_params.get("tour", "1")
    number = form_int(asked, low=1, high=MAX_ID) or 1
    return min(max(number, 1), len(TOUR))


def should_offer_passkey(request: Request) -> bool:
    """After an email-link sign-in, offer a passkey to someone who has none (unless dismissed)."""
    practitioner = me(request)
    return (
        request.state.session.method == "email"
        and "passkey-prompt" not in practitioner.dismissed_banners
        and not request.state.has_passkey
    )
