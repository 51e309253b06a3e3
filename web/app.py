"""The application factory: settings, middleware, lifespan and routes. Nothing else."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp

from web.admin import audit_log, dashboard, onboarding, organisations, practitioners
from web.alerts import notifications, push, worker
from web.clients import add as add_client
from web.clients import dashboard as clients
from web.clients import find as find_clients
from web.core import budgets, clock, db, errors, name_index
from web.core.areas import area_tree
from web.core.auth import AuthMiddleware
from web.core.inputs import InputGuard
from web.core.security import SecurityMiddleware
from web.core.settings import Settings, load
from web.family import card as family_card
from web.people import passkeys as own_passkeys
from web.people import phonebook, profile
from web.pwa import shell as pwa
from web.signin import links as signin
from web.signin import passkeys, sso
from web.signup import guide, ways_in
from web.signup import steps as signup
from web.teams import (
    attentions,
    checkins,
    circles,
    family_cards,
    family_share,
    invitations,
    join_codes,
    meetings,
    membership,
)
from web.teams import lead as team_lead
from web.teams import team as teams

#: Bodies smaller than this travel uncompressed (gzip's overhead would outweigh it).
COMPRESS_FROM = 500


class Patchwork(Starlette):
    def build_middleware_stack(self) -> ASGIApp:
        # Outermost, so security headers reach even the 500 page. It refuses an oversized
        # body (413) before its CSRF check; inside it, the input guard refuses (400) what the
        # database cannot store, before any route reads it.
        # Compression is outermost of all, so every response, error pages included, can
        # travel gzipped (the CSRF token is masked afresh per page, so it never repeats).
        # In tests, each request's SQL statements are counted against its route's budget.
        return GZipMiddleware(
            budgets.checked(
                SecurityMiddleware(
                    InputGuard(super().build_middleware_stack()),
                    self.state.settings,
                    refuse=errors.csrf_refused,
                )
            ),
            minimum_size=COMPRESS_FROM,
            compresslevel=6,
        )


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or load()
    clock.set_time_zone(settings.time_zone)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await db.open_database(settings.database_url)
        await area_tree()  # reference data, read once per process
        stop = asyncio.Event()
        words = asyncio.create_task(name_index.keep_topped_up(stop))
        delivery = (
            asyncio.create_task(worker.run(settings, stop, poll_seconds=1.0))
            if settings.run_worker_in_web
            else None
        )
        try:
            yield
        finally:
            stop.set()
            await words
            if delivery is not None:
                await delivery
            await db.close_database()

    app = Patchwork(
        routes=[
            *clients.routes,
            *find_clients.routes,
            *add_client.routes,
            *membership.routes,
            *team_lead.routes,
            *teams.routes,
            *join_codes.routes,
            *family_share.routes,
            *family_cards.routes,
            *family_card.routes,
            *attentions.routes,
            *circles.routes,
            *checkins.routes,
            *notifications.routes,
            *push.routes,
            *meetings.routes,
            *invitations.routes,
            *ways_in.routes,
            *signup.routes,
            *phonebook.routes,
            *guide.routes,
            *signin.routes,
            *passkeys.routes,
            *sso.routes,
            *profile.routes,
            *own_passkeys.routes,
            *pwa.routes,
            *dashboard.routes,
            *organisations.routes,
            *practitioners.routes,
            *onboarding.routes,
            *audit_log.routes,
        ],
        middleware=[Middleware(errors.OutageGuard), Middleware(AuthMiddleware, settings=settings)],
        exception_handlers=errors.exception_handlers,  # type: ignore[arg-type]
        lifespan=lifespan,
    )
    app.state.settings = settings
    return app
