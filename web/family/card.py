"""The family's card: the page a client or carer opens from the link a member shared, without
signing in. It lists who works with them and how to call (web/core/family.py decides who).

A link that never existed, has expired or was withdrawn gets one page, the same status and
the same bytes, so it confirms nothing. Every answer is kept from caches, search engines and
other sites (no-store, noindex, no referrer); the access log keeps only `/family/[token]`.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from models.teams import TeamEvent
from web.core import audit, clock, family, ratelimit
from web.core.auth import public
from web.core.budgets import queries
from web.core.render import page_or_block

#: The status of every link that does not open a card: as for any unknown page.
GONE_STATUS = 404


def family_page(
    request: Request, template: str, values: dict[str, Any] | None = None, status: int = 200
) -> Response:
    return page_or_block(request, template, values, status_code=status, headers=family.HEADERS)


@queries(8)
@public
async def show(request: Request) -> Response:
    """The family's card. Both limits are counted before the card is read, for every link
    alike; every opening is audited, and the first of each day shown in the team's History."""
    token = request.path_params["token"]
    # Keyed by the token's hash: the limits' table must not hold a working link.
    within = await ratelimit.hit(
        f"family-card:address:{audit.client_ip(request)}", family.PER_ADDRESS_PER_HOUR
    ) and await ratelimit.hit(
        f"family-card:link:{family.token_hash(token)[:40]}", family.PER_CARD_PER_HOUR
    )
    if not within:
        response = family_page(request, "family/busy.html", status=429)
        response.headers["Retry-After"] = "3600"
        return response
    card = await family.card_for_token(token)
    if card is None:
        return family_page(request, "family/gone.html", status=GONE_STATUS)
    # Every opening is audited; History shows the first of each day.
    await audit.record(
        request, "family_card.opened", client_id=card.client_id, area_id=card.area_id,
        card_id=card.id,
    )  # fmt: skip
    if await family.mark_opened(card):
        await TeamEvent.create(
            client_id=card.client_id, kind="card_opened", actor=None, at=clock.now(),
            card_id=card.id,
        )  # fmt: skip
    return family_page(
        request, "family/card.html", family.card_values(request.app.state.settings, card)
    )


routes = [
    Route("/family/{token}", show, methods=["GET"]),
]
