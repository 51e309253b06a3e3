"""Help: the dashboard walkthrough, the dismissible banners on the main pages, the help page.

Both are plain server-rendered HTML. The walkthrough's steps are links (`/?tour=N`) that htmx
turns into in-place swaps, and finishing or skipping it is a form; a banner's "Got it" is a
form that htmx submits without leaving the page. Both are remembered per practitioner.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from web.core import audit
from web.core.auth import me, safe_next, signed_in
from web.core.budgets import PAGE, queries
from web.core.nudges import TOUR
from web.core.render import env, page_or_block

#: The help banner of each main page: how the page helps, at a glance.
BANNERS = {
    "clients": "These are the clients whose teams you are on. Open one to see who else is "
    "working with them and how to reach them.",
    "search": "Find a client by two parts of their name, in any order, and a colleague or "
    "service by one word. Your areas come first; join a team with one tap.",
    "team": "Everyone on this client's team, with tap-to-call and email. Raise an attention "
    "when the team should talk; the Circle tab shows family members' teams.",
    "notifications": "What changed on your clients' teams. Emails and push notifications "
    "never name anyone: the details are only here.",
    "phonebook": "Find any practitioner or service on Patchwork, nearest first, and call or "
    "email them in one tap.",
}

env.globals["help_banners"] = BANNERS


@queries(PAGE)
@signed_in
async def dismiss_banner(request: Request) -> Response:
    """Hide one page's help banner for good (htmx removes it in place)."""
    key = request.path_params["key"]
    practitioner = me(request)
    if key in BANNERS and key not in practitioner.dismissed_banners:
        practitioner.dismissed_banners = [*practitioner.dismissed_banners, key]
        await practitioner.save(update_fields=["dismissed_banners"])
    if request.headers.get("hx-request"):
        return Response(status_code=200)
    return RedirectResponse(safe_next((await request.form()).get("next")), status_code=303)


@queries(PAGE)
@signed_in
async def finish_walkthrough(request: Request) -> Response:
    practitioner = me(request)
    practitioner.walkthrough_done = True
    await practitioner.save(update_fields=["walkthrough_done"])
    await audit.record(request, "walkthrough.finished")
    return RedirectResponse("/", status_code=303)


@queries(PAGE)
@signed_in
async def replay_walkthrough(request: Request) -> Response:
    """From the help page: the walkthrough again, and every banner back."""
    practitioner = me(request)
    practitioner.walkthrough_done = False
    practitioner.dismissed_banners = []
    await practitioner.save(update_fields=["walkthrough_done", "dismissed_banners"])
    return RedirectResponse("/?tour=1", status_code=303)


@queries(PAGE)
@signed_in
async def help_page(request: Request) -> Response:
    return page_or_block(request, "signup/help.html", {"tour": TOUR, "banners": BANNERS})


routes = [
    Route("/help", help_page, methods=["GET"]),
    Route("/help/banners/{key}", dismiss_banner, methods=["POST"]),
    Route("/help/walkthrough/done", finish_walkthrough, methods=["POST"]),
    Route("/help/walkthrough/replay", replay_walkthrough, methods=["POST"]),
]
