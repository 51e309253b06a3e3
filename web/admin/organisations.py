"""Managing organisations: name, service type, parent, areas served, duty contacts, email
domains, the sensitive flag and single sign-on.

A local administrator manages the organisations based in the councils they look after; any
other (or a missing) organisation is the same 404. Every change needs a recent sign-in, is
saved in one transaction and audited with the names of the fields it changed. The client
secret is stored and never shown again, not even to whoever typed it.

Only a state administrator sets the email domains and single sign-on: together they decide
whose sign-ins the organisation vouches for, so a local administrator who could set them
could sign in as any of its people. A local administrator sees them read-only, their saves
leave them as stored (whatever the form sends) and removing single sign-on is refused.
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.organisations import SERVICE_TYPES, Organisation
from models.practitioners import Practitioner
from web.admin import organisations_form as form
from web.admin.organisations_list import listing, page_link
from web.admin.organisations_save import clear_sso, save
from web.admin.rules import (
    admin_page,
    administrator,
    area_choices,
    change_refused,
    changed,
    councils,
    viewed,
    within,
)
from web.core.auth import me
from web.core.budgets import PAGE, queries
from web.core.errors import error_page
from web.core.reauth import signed_in_recently

#: What the banner says after a change (`?done=`).
NOTICES = {
    "created": "The organisation is created.",
    "saved": "Your changes are saved.",
    "unchanged": "Nothing had changed, so nothing was saved.",
    "sso-removed": "Single sign-on is removed: its people now sign in with a passkey or an "
    "emailed link.",
}
SIGN_INS_REFUSED = (
    "Only a state administrator can change email domains and single sign-on: they decide "
    "whose sign-ins this organisation vouches for."
)
CONFLICT = "Someone else has just used this name or one of these domains: check and try again"


def sets_sign_ins(request: Request) -> bool:
    """Whether this administrator may set email domains and single sign-on."""
    return me(request).role == "state_admin"


@queries(8)
@administrator
async def index(request: Request) -> Response:
    """The organisations based in the councils looked after, filtered and a page at a time."""
    looked_after = await councils(request)
    found = await listing(within(looked_after), looked_after, request.query_params)
    await viewed(request, "organisations")
    return await admin_page(
        request,
        "admin/organisations.html",
        {
            "listing": found,
            "districts": await area_choices(looked_after),
            "page_link": page_link,
            "notice": "",
        },
        block="results",
    )


def changed_fields(
    before: dict[str, Any], submitted: form.Submitted, secret_stored: bool
) -> list[str]:
    """The names (never the values) of what the form changes, as the audit trail records them."""
    after = submitted.values
    names = [form.AUDITED[key] for key in form.AUDITED if before[key] != after[key]]
    sso_off = not after["oidc_issuer"] and not after["oidc_client_id"]
    if submitted.new_secret or (submitted.sign_ins and secret_stored and sso_off):
        names.append("oidc_client_secret")
    return names


async def organisation_or_404(request: Request) -> Organisation:
    """The organisation in the path, if it is based in a council looked after."""
    found = await Organisation.get_or_none(
        within(await councils(request)), id=request.path_params["organisation_id"]
    )
    if found is None:
        raise HTTPException(404)
    return found


async def form_page(
    request: Request,
    organisation: Organisation | None,
    choices: form.Choices,
    values: dict[str, Any],
    *,
    errors: dict[str, str] | None = None,
    secret_dropped: bool = False,
    status_code: int = 200,
) -> Response:
    members = 0
    if organisation is not None:
        members = await Practitioner.filter(organisation_id=organisation.id, active=True).count()
    return await admin_page(
        request,
        "admin/organisation_form.html",
        {
            "organisation": organisation,
            "choices": choices,
            "service_types": SERVICE_TYPES,
            "form": values,
            "errors": errors or {},
            # Whether a secret is stored, never what it is.
            "secret_stored": bool(organisation and organisation.oidc_client_secret),
            "secret_dropped": secret_dropped,
            "sets_sign_ins": sets_sign_ins(request),
            "sign_ins_refused": SIGN_INS_REFUSED,
            "members": members,
            "recent": signed_in_recently(request),
            "notice": NOTICES.get(request.query_params.get("done", ""), ""),
        },
        status_code=status_code,
    )


async def choices_for(request: Request, organisation: Organisation | None) -> form.Choices:
    """The councils and parent organisations this administrator's form may offer."""
    looked_after = await councils(request)
    return await form.choices_for(
        await area_choices(looked_after), within(looked_after), organisation
    )


@queries(PAGE)
@administrator
async def new(request: Request) -> Response:
    """A blank form for a new organisation."""
    choices = await choices_for(request, None)
    return await form_page(request, None, choices, await form.values_of(None, choices))


@queries(12)
@administrator
async def edit(request: Request) -> Response:
    """The form for one organisation, filled in (but never with its client secret)."""
    organisation = await organisation_or_404(request)
    await viewed(request, "organisation", organisation_id=organisation.id)
    choices = await choices_for(request, organisation)
    return await form_page(
        request, organisation, choices, await form.values_of(organisation, choices)
    )


async def submit(request: Request, organisation: Organisation | None) -> Response:
    """Check the form, then save it (or show it again with what is wrong, as 422)."""
    choices = await choices_for(request, organisation)
    submitted = await form.read(
        await request.form(),
        organisation,
        choices,
        await councils(request),
        sign_ins=sets_sign_ins(request),
    )
    if submitted.errors:
        return await form_page(
            request,
            organisation,
            choices,
            submitted.values,
            errors=submitted.errors,
            secret_dropped=submitted.secret_dropped,
            status_code=422,
        )
    before = await form.values_of(organisation, choices)
    stored = bool(organisation and organisation.oidc_client_secret)
    fields = changed_fields(before, submitted, stored)
    if organisation is not None and not fields:
        return RedirectResponse(f"/admin/organisations/{organisation.id}?done=unchanged", 303)
    try:
        async with in_transaction():
            saved = await save(organisation, submitted, choices)
            await changed(
                request,
                "organisation.updated" if organisation else "organisation.created",
                area_id=saved.area_id,
                organisation_id=saved.id,
                fields=fields,
            )
    except IntegrityError:  # a name or domain another request took since the check
        # Shown as stored, not as the rolled-back save left it in memory.
        organisation = organisation and await organisation_or_404(request)
        return await form_page(
            request,
            organisation,
            choices,
            submitted.values,
            errors={"name": CONFLICT},
            secret_dropped=bool(submitted.new_secret),
            status_code=422,
        )
    done = "saved" if organisation else "created"
    return RedirectResponse(f"/admin/organisations/{saved.id}?done={done}", status_code=303)


@queries(13)
@administrator
async def create(request: Request) -> Response:
    """Create an organisation based in a council looked after."""
    if refusal := change_refused(request, "To create an organisation", request.url.path):
        return refusal
    return await submit(request, None)


@queries(17)
@administrator
async def update(request: Request) -> Response:
    """Save changes to an organisation."""
    if refusal := change_refused(request, "To change an organisation", request.url.path):
        return refusal
    return await submit(request, await organisation_or_404(request))


@queries(PAGE)
@administrator
async def remove_single_sign_on(request: Request) -> Response:
    """Remove the organisation's OpenID Connect settings, secret included (a state
    administrator only)."""
    back_to = request.url.path.removesuffix("/sso/remove")
    if refusal := change_refused(request, "To remove single sign-on", back_to):
        return refusal
    organisation = await organisation_or_404(request)
    if not sets_sign_ins(request):
        return error_page(
            request,
            403,
            SIGN_INS_REFUSED,
            action_url=f"/admin/organisations/{organisation.id}",
            action_label="Back to the organisation",
        )
    async with in_transaction():
        if removed := await clear_sso(organisation):
            await changed(
                request,
                "organisation.updated",
                area_id=organisation.area_id,
                organisation_id=organisation.id,
                fields=removed,
            )
    done = "sso-removed" if removed else "unchanged"
    return RedirectResponse(f"/admin/organisations/{organisation.id}?done={done}", 303)


routes: list[BaseRoute] = [
    Route("/admin/organisations", index, methods=["GET"]),
    Route("/admin/organisations/new", new, methods=["GET"]),
    Route("/admin/organisations/new", create, methods=["POST"]),
    Route("/admin/organisations/{organisation_id:int}", edit, methods=["GET"]),
    Route("/admin/organisations/{organisation_id:int}", update, methods=["POST"]),
    Route(
        "/admin/organisations/{organisation_id:int}/sso/remove",
        remove_single_sign_on,
        methods=["POST"],
    ),
]
