"""Signup one question at a time.

Seven short pages (the GOV.UK question-page pattern) ask one thing each. Progress is kept in
`Practitioner.signup_step`, so someone can leave at any step and resume at their next sign-in.
How people get this far is web/signup/ways_in.py.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from tortoise.transactions import in_transaction

from models.invitations import Invitation
from models.practitioners import DELIVERY, SIGNUP_ANSWERED, Practitioner
from web.core import audit
from web.core.auth import me, resume_path, signing_up
from web.core.budgets import PAGE, queries
from web.core.details import (
    Answers,
    Errors,
    check_areas,
    check_details,
    check_phones,
    chosen_area_ids,
    councils_by_district,
    save_areas,
)
from web.core.membership import join
from web.core.render import page_or_block
from web.core.vouching import organisation_choices

STEPS = 7
TITLES = {
    1: "Your name and job title",
    2: "Your organisation and service",
    3: "Your work phone numbers",
    4: "Your areas",
    5: "Create a passkey",
    6: "Turn on alerts",
    7: "Find your first client",
}
LAST_QUESTION = SIGNUP_ANSWERED


# -- self-signup ---------------------------------------------------------------------------------


async def step_context(request: Request, step: int, form: Answers) -> dict[str, Any]:
    practitioner = me(request)
    context: dict[str, Any] = {}
    if step == 2:
        context["organisations"] = await organisation_choices(practitioner)
        if practitioner.organisation_vouched_only:
            await practitioner.fetch_related("organisation_vouched_by")
            context["vouched_by"] = practitioner.organisation_vouched_by
    if step == 4:
        context["districts"] = await councils_by_district()
        await practitioner.fetch_related("organisation")
        form.setdefault(
            "areas", await chosen_area_ids(practitioner) or suggested_areas(practitioner)
        )
    if step == STEPS:
        context["team_client_ids"] = await Invitation.filter(
            accepted_by_id=practitioner.id, client_id__isnull=False
        ).values_list("client_id", flat=True)
    return context


def suggested_areas(practitioner: Practitioner) -> list[int]:
    area = practitioner.organisation.area_id  # type: ignore[attr-defined]
    return [area] if area else []


def initial_form(practitioner: Practitioner, step: int) -> Answers:
    return {
        1: {"name": practitioner.name, "job_title": practitioner.job_title},
        2: {"organisation_id": str(practitioner.organisation_id)},  # type: ignore[attr-defined]
        3: {"phone": practitioner.phone, "mobile": practitioner.mobile},
        6: {"notify_email": practitioner.notify_email},
    }.get(step, {})


async def answer(request: Request, step: int, form: FormData) -> tuple[Answers, Errors]:
    """Check one page's answers and, when they are good, keep them."""
    practitioner = me(request)
    if step == 1:
        answers, errors = check_details(form)
        if not errors:
            practitioner.name, practitioner.job_title = answers["name"], answers["job_title"]
    elif step == 2:
        answers = {"organisation_id": str(form.get("organisation_id", ""))}
        allowed = {str(o.id): o for o in await organisation_choices(practitioner)}
        errors = (
            {}
            if answers["organisation_id"] in allowed
            else {"organisation_id": "Choose your organisation and service from the list"}
        )
        if not errors:
            practitioner.organisation = allowed[answers["organisation_id"]]
    elif step == 3:
        answers, errors = check_phones(form)
        if not errors:
            practitioner.phone, practitioner.mobile = answers["phone"], answers["mobile"]
    elif step == 4:
        answers, errors = await check_areas(form)
        if not errors:
            await save_areas(practitioner, answers["areas"])
    elif step == 6:
        answers = {"notify_email": str(form.get("notify_email", ""))}
        errors = (
            {}
            if answers["notify_email"] in DELIVERY
            else {"notify_email": "Choose how you want alerts by email"}
        )
        if not errors:
            practitioner.notify_email = answers["notify_email"]
    else:  # 5, the passkey, is created by the browser: continuing is all that is asked here
        answers, errors = {}, {}
    return answers, errors


async def finish(request: Request, practitioner: Practitioner) -> None:
    """Signup is done: put them on the team they were invited to, if any."""
    invited = await Invitation.filter(
        accepted_by_id=practitioner.id, client_id__isnull=False
    ).select_related("client")
    for invitation in invited:
        if invitation.client is not None:
            await join(request, practitioner, invitation.client, practitioner.job_title)
    await audit.record(request, "signup.completed", actor_id=practitioner.id)


def step_page(
    request: Request,
    step: int,
    form: Answers,
    errors: Errors,
    context: dict[str, Any],
    status_code: int = 200,
) -> Response:
    return page_or_block(
        request,
        f"signup/step{step}.html",
        {
            "step": step,
            "steps": STEPS,
            "title": TITLES[step],
            "form": form,
            "errors": errors,
            "back": f"/signup/{step - 1}" if step > 1 else "",
            **context,
        },
        status_code=status_code,
    )


def out_of_order(practitioner: Practitioner, step: int) -> Response | None:
    """Questions are answered in order: a page beyond the next one sends you to the next
    (home, once all are answered). The last page opens once the questions are answered."""
    if 1 <= step <= min(STEPS, practitioner.signup_step + 1):
        return None
    return RedirectResponse(resume_path(practitioner) or "/", status_code=303)


@queries(PAGE)
@signing_up
async def show_step(request: Request) -> Response:
    step = request.path_params["step"]
    practitioner = me(request)
    if (refusal := out_of_order(practitioner, step)) is not None:
        return refusal
    form = initial_form(practitioner, step)
    return step_page(request, step, form, {}, await step_context(request, step, form))


@queries(15)
@signing_up
async def save_step(request: Request) -> Response:
    step = request.path_params["step"]
    practitioner = me(request)
    if (refusal := out_of_order(practitioner, step)) is not None:
        return refusal
    if step == STEPS:  # the last page asks nothing
        return RedirectResponse("/", status_code=303)
    async with in_transaction():
        answers, errors = await answer(request, step, await request.form())
        if errors:
            context = await step_context(request, step, answers)
            return step_page(request, step, answers, errors, context, status_code=422)
        finishing = practitioner.signup_step < LAST_QUESTION <= step
        practitioner.signup_step = max(practitioner.signup_step, step)
        await practitioner.save()
        if finishing:
            await finish(request, practitioner)
    return RedirectResponse(f"/signup/{step + 1}", status_code=303)


routes = [
    Route("/signup/{step:int}", show_step, methods=["GET"]),
    Route("/signup/{step:int}", save_step, methods=["POST"]),
]
