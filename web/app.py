"""The application factory: settings, middleware, lifespan and routes. Nothing else."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.types import ASGIApp

from web import (
    attentions,
    checkins,
    circles,
    clients,
    clock,
    db,
    errors,
    guide,
    invitations,
    join_codes,
    meetings,
    membership,
    notifications,
    passkeys,
    phonebook,
    profile,
    push,
    pwa,
    signin,
    signup,
    sso,
    teams,
    worker,
)
from web.auth import AuthMiddleware
from web.inputs import InputGuard
from web.security import SecurityMiddleware
from web.settings import Settings, load


class Patchwork(Starlette):
    def build_middleware_stack(self) -> ASGIApp:
        # Outermost, so security headers reach even the 500 page. It refuses an oversized
        # body (413) before its CSRF check; inside it, the input guard refuses (400) what the
        # database cannot store, before any route reads it.
        return SecurityMiddleware(
            InputGuard(super().build_middleware_stack()),
            self.state.settings,
            refuse=errors.csrf_refused,
        )


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or load()
    clock.set_time_zone(settings.time_zone)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await db.open_database(settings.database_url)
        stop = asyncio.Event()
        delivery = (
            asyncio.create_task(worker.run(settings, stop, poll_seconds=1.0))
            if settings.run_worker_in_web
            else None
        )
        try:
            yield
        finally:
            stop.set()
            if delivery is not None:
                await delivery
            await db.close_database()

    app = Patchwork(
        routes=[
            *clients.routes,
            *membership.routes,
            *teams.routes,
            *join_codes.routes,
            *attentions.routes,
            *circles.routes,
            *checkins.routes,
            *notifications.routes,
            *push.routes,
            *meetings.routes,
            *invitations.routes,
            *signup.routes,
            *phonebook.routes,
            *guide.routes,
            *signin.routes,
            *passkeys.routes,
            *sso.routes,
            *profile.routes,
            *pwa.routes,
        ],
        middleware=[Middleware(AuthMiddleware, settings=settings)],
        exception_handlers=errors.exception_handlers,  # type: ignore[arg-type]
        lifespan=lifespan,
    )
    app.state.settings = settings
    return app
