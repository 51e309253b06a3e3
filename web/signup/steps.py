"""Ways in, and signup one question at a time.

Two ways in, both proven by a link emailed to a work address: an invitation from a colleague
(or `python -m web invite-admin`), or self-signup with an email whose domain belongs to a
registered organisation. Opening the link creates the practitioner and signs them in; then
seven short pages (the GOV.UK question-page pattern) ask one thing each. Progress is kept in
`Practitioner.signup_step`, so someone can leave at any step and resume at their next sign-in.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.areas import Area
from models.invitations import VALID_DAYS, Invitation
from models.organisations import Organisation
from models.practitioners import DELIVERY, SIGNUP_ANSWERED, Practitioner, PractitionerArea
from web.core import audit, ratelimit, vouching
from web.core.audit import client_ip
from web.core.auth import me, now, public, resume_path, signing_up, token_hash
from web.core.errors import error_page, too_many_requests
from web.core.inputs import MAX_ID, form_int
from web.core.notify import enqueue_email
from web.core.render import page_or_block
from web.core.settings import Settings
from web.core.vouching import domain_of, organisation_choices, organisations_for
from web.signin.links import complete_signin, normalise_email, send_signin_link, valid_email
from web.teams.membership import join

#: Two sentences every invitation and verification email opens with.
ABOUT = (
    "Patchwork shows frontline practitioners which other professionals are working with the "
    "same client, and how to reach them. It connects people: it holds no case notes."
)
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
VERIFY_DAYS = 1
SIGNUPS_PER_IP_PER_HOUR = 20
PHONE_SHAPE = re.compile(r"^[0-9+() -]{6,40}$")
MAX_AREAS = 12


# -- invitations: create, send, open -----------------------------------------------------------


async def send_invitation(
    settings: Settings,
    email: str,
    invited_by: Practitioner | None,
    *,
    client_id: int | None = None,
    role: str = "practitioner",
    invitation: Invitation | None = None,
    organisation: Organisation | None = None,
) -> tuple[Invitation, str]:
    """Create (or renew) an invitation and queue its email: a fresh token, 14 more days.
    It names `organisation` (by default the inviter's; see web/core/vouching.py). Returns it with
    its link. Call inside the transaction of the change."""
    token = secrets.token_urlsafe(32)
    link = f"{settings.base_url}/invitations/{token}"
    fields: dict[str, Any] = {
        "token_hash": token_hash(token),
        "sent_at": now(),
        "expires_at": now() + timedelta(days=VALID_DAYS),
    }
    if invitation is None:
        named = organisation.id if organisation else None
        if named is None and invited_by is not None:
            named = invited_by.organisation_id
        invitation = await Invitation.create(
            email=email,
            invited_by=invited_by,
            client_id=client_id,
            role=role,
            organisation_id=named,
            **fields,
        )
        # Whoever invites vouches for the invitee's organisation: the record says who and which.
        await audit.record(
            None,
            "invitation.organisation",
            actor_id=invited_by.id if invited_by else None,
            invitation_id=invitation.id,
            organisation_id=named,
        )
    else:
        await invitation.update_from_dict(fields).save()
    if client_id is not None:
        # Never the inviter's organisation: it could be a discreet member's sensitive service.
        who = (
            "A colleague has invited you to Patchwork, to join the team around one of their clients"
        )
    elif invited_by is not None:
        await invited_by.fetch_related("organisation")
        who = f"A colleague at {invited_by.organisation.name} has invited you to Patchwork"
    else:
        who = "You have been invited to Patchwork"
    await enqueue_email(
        email,
        "You're invited to Patchwork",
        f"{who}.\n\n{ABOUT}\n\nTo get started, open this link (it works for {VALID_DAYS} days):\n"
        f"{link}\n\nIt takes about two minutes: your name, "
        "your organisation, your phone numbers and your areas.\n",
        urgent=True,
    )
    return invitation, link


async def open_invitation(token: str) -> Invitation | None:
    """A usable invitation: not expired, revoked or already accepted."""
    return await Invitation.get_or_none(
        token_hash=token_hash(token),
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=now(),
    ).select_related("invited_by__organisation")


def unusable(request: Request) -> Response:
    return error_page(
        request,
        410,
        "Invitations work for 14 days and only once, and can be withdrawn. Ask the colleague "
        "who invited you to send a new one, or sign in if you already have an account.",
        title="This invitation has expired or can no longer be used",
        action_url="/signin",
        action_label="Sign in",
    )


@public
async def welcome(request: Request) -> Response:
    """The page an invitation or verification link opens: what Patchwork is, then start."""
    invitation = await open_invitation(request.path_params["token"])
    if invitation is None:
        return unusable(request)
    return page_or_block(
        request,
        "signup/welcome.html",
        {"invitation": invitation, "about": ABOUT, "token": request.path_params["token"]},
    )


class InvitationTaken(Exception):
    """Another request accepted the same invitation first."""


@public
async def start(request: Request) -> Response:
    """Create the practitioner from the invitation, sign them in, and ask the first question.
    Opened twice at once (a double tap, two tabs), one request makes the account; the others
    make nothing and get the page any used invitation gives."""
    invitation = await open_invitation(request.path_params["token"])
    if invitation is None:
        return unusable(request)
    if await Practitioner.exists(email=invitation.email):
        if await open_invitation(request.path_params["token"]) is None:
            return unusable(request)  # accepted a moment ago, by the same person's other tap
        return error_page(
            request,
            409,
            "There is already a Patchwork account for this email address.",
            title="You already have an account",
            action_url="/signin",
            action_label="Sign in",
        )
    placed = await vouching.placement(invitation)
    if placed is None:
        return error_page(
            request,
            422,
            "No organisation on Patchwork owns this email address's domain yet. Ask your "
            "Patchwork administrator to add your organisation.",
            title="Your organisation is not on Patchwork yet",
        )
    try:
        async with in_transaction():
            practitioner = await Practitioner.create(
                email=invitation.email,
                name="",
                organisation=placed.organisation,
                organisation_vouched_by=placed.vouched_by,
                role=invitation.role,
                signup_step=0,
            )
            taken = await Invitation.filter(id=invitation.id, accepted_at__isnull=True).update(
                accepted_at=now(), accepted_by_id=practitioner.id
            )
            if not taken:
                raise InvitationTaken
            await audit.record(
                request,
                "signup.started",
                actor_id=practitioner.id,
                invitation_id=invitation.id,
                organisation_id=placed.organisation.id,
                vouched_by=placed.vouched_by.id if placed.vouched_by else None,
            )
    except (IntegrityError, InvitationTaken):
        # The winner's practitioner (unique email) or acceptance came first: this request's
        # transaction is rolled back, so nothing of it remains.
        return unusable(request)
    response = RedirectResponse("/signup/1", status_code=303)
    return await complete_signin(request, practitioner, "invitation", response)


# -- self-signup ---------------------------------------------------------------------------------


@public
async def signup_form(request: Request) -> Response:
    return page_or_block(request, "signup/start.html", {"email": "", "errors": {}, "about": ABOUT})


@public
async def request_signup(request: Request) -> Response:
    """Email a verification link to a work address whose domain an organisation owns."""
    email = normalise_email(str((await request.form()).get("email", "")))
    settings: Settings = request.app.state.settings
    if not valid_email(email):
        return signup_refused(
            request, email, "Enter your work email address, like name@council.vic.gov.au"
        )
    if not await ratelimit.hit(f"signup:ip:{client_ip(request)}", SIGNUPS_PER_IP_PER_HOUR):
        await audit.record(request, "signup.refused", reason="rate limit")
        return too_many_requests(request, "Too many signups from here. Try again in an hour.")
    if not await organisations_for(email):
        await audit.record(request, "signup.refused", reason="unknown domain")
        return signup_refused(
            request,
            email,
            f"Patchwork doesn't know {domain_of(email)} yet, so we can't check it's a work "
            "address. Ask a colleague who uses Patchwork to invite you: they can do it from "
            "their profile in a minute.",
        )
    existing = await Practitioner.get_or_none(email=email, active=True)
    async with in_transaction():
        if existing is not None:  # the same answer either way: just help them sign in
            await send_signin_link(request, existing, "/")
        else:
            await send_verification(settings, email)
        await audit.record(request, "signup.requested", known=existing is not None)
    return page_or_block(request, "signin/sent.html", {"email": email})


def signup_refused(request: Request, email: str, message: str) -> Response:
    return page_or_block(
        request,
        "signup/start.html",
        {"email": email, "errors": {"email": message}, "about": ABOUT},
        status_code=422,
    )


async def send_verification(settings: Settings, email: str) -> None:
    token = secrets.token_urlsafe(32)
    await Invitation.create(
        email=email,
        token_hash=token_hash(token),
        sent_at=now(),
        expires_at=now() + timedelta(days=VERIFY_DAYS),
    )
    await enqueue_email(
        email,
        "Confirm your email to join Patchwork",
        f"{ABOUT}\n\nTo confirm this is your work email and set up your account, open this "
        f"link (it works for 24 hours):\n{settings.base_url}/invitations/{token}\n\n"
        "If you did not ask to join Patchwork, you can ignore this email.\n",
        urgent=True,
    )


# -- the seven questions ---------------------------------------------------------------------------

Answers = dict[str, Any]
Errors = dict[str, str]


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


async def councils_by_district() -> list[tuple[str, list[Area]]]:
    councils = await Area.filter(kind="council").select_related("parent").order_by("name")
    districts: dict[str, list[Area]] = {}
    for council in councils:
        districts.setdefault(council.parent.name if council.parent else "Other", []).append(council)
    return sorted(districts.items())


async def chosen_area_ids(practitioner: Practitioner) -> list[int]:
    links = await PractitionerArea.filter(practitioner_id=practitioner.id).order_by(
        "position", "id"
    )
    return [link.area_id for link in links]  # type: ignore[attr-defined]


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


def check_details(form: FormData) -> tuple[Answers, Errors]:
    answers = {k: str(form.get(k, "")).strip() for k in ("name", "job_title")}
    errors = {}
    if not answers["name"] or len(answers["name"]) > 120:
        errors["name"] = "Enter your full name, as colleagues know you"
    if not answers["job_title"] or len(answers["job_title"]) > 120:
        errors["job_title"] = "Enter your job title, for example Maternal & Child Health Nurse"
    return answers, errors


def check_phones(form: FormData) -> tuple[Answers, Errors]:
    answers = {k: str(form.get(k, "")).strip() for k in ("phone", "mobile")}
    errors = {}
    for field, label in (("phone", "work phone"), ("mobile", "mobile")):
        if answers[field] and not PHONE_SHAPE.match(answers[field]):
            errors[field] = f"Enter your {label} number using digits, spaces and + only"
    if not errors and not (answers["phone"] or answers["mobile"]):
        errors["phone"] = "Enter a work phone or a mobile number, so colleagues can reach you"
    return answers, errors


async def check_areas(form: FormData) -> tuple[Answers, Errors]:
    ids = [n for v in form.getlist("areas") if (n := form_int(v, low=1, high=MAX_ID)) is not None]
    known = set(await Area.filter(id__in=ids, kind="council").values_list("id", flat=True))
    chosen = [i for i in dict.fromkeys(ids) if i in known]
    errors = {}
    if not chosen:
        errors["areas"] = "Choose at least one council area you work in"
    elif len(chosen) > MAX_AREAS:
        errors["areas"] = f"Choose at most {MAX_AREAS} council areas"
    return {"areas": chosen}, errors


async def save_areas(practitioner: Practitioner, area_ids: list[int]) -> None:
    await PractitionerArea.filter(practitioner_id=practitioner.id).delete()
    await PractitionerArea.bulk_create(
        [
            PractitionerArea(practitioner_id=practitioner.id, area_id=area_id, position=n)
            for n, area_id in enumerate(area_ids)
        ]
    )


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


@signing_up
async def show_step(request: Request) -> Response:
    step = request.path_params["step"]
    practitioner = me(request)
    if (refusal := out_of_order(practitioner, step)) is not None:
        return refusal
    form = initial_form(practitioner, step)
    return step_page(request, step, form, {}, await step_context(request, step, form))


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
    Route("/signup", signup_form, methods=["GET"]),
    Route("/signup", request_signup, methods=["POST"]),
    Route("/signup/{step:int}", show_step, methods=["GET"]),
    Route("/signup/{step:int}", save_step, methods=["POST"]),
    Route("/invitations/{token}", welcome, methods=["GET"]),
    Route("/invitations/{token}", start, methods=["POST"]),
]
