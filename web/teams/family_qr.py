"""The family's card as a QR code, shown once on the member's phone during a visit: the
link is never stored or sent (only its token's SHA-256 is kept), and the page is kept from
caches and other sites."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from models.clients import Client
from models.family import FamilyCard
from web.core import family
from web.core.render import page_or_block, qr_svg


def qr_page(request: Request, client: Client, card: FamilyCard, url: str) -> Response:
    """The card's link as a QR code (and as text), shown this once: never stored, never sent."""
    svg = qr_svg(url, "QR code of the family's card")
    return page_or_block(
        request,
        "teams/family_qr.html",
        {
            "client": client,
            "card": card,
            "svg": svg,
            "url": url,
            "until": family.long_date(card.expires_at),
            "tab": "team",
        },
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )
