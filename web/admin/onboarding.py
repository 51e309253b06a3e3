"""Bulk onboarding: a CSV of staff, previewed row by row, then invitations sent.

An administrator uploads (or pastes) a staff list: name, work email, job title, organisation.
The preview lists every row with its problems (`onboarding_checks`) and sends nothing. The
good rows travel to the send step in a payload signed with the deployment's secret (no file is
kept on the server, nothing can be added or changed on the way), bound to this administrator
and valid an hour; sending checks each row again, invites the ones still good, naming their
organisation, and records one audit event with the count.

Bulk invitations have their own hourly allowance per administrator, BULK_PER_HOUR (one full
file), not the 20 an hour anyone may send: each goes only to an address nobody on Patchwork
has, with no invitation waiting, at an organisation in the administrator's areas, after a
recent sign-in. Rows past the allowance are held back and said so; the same file uploaded
later flags those already invited, so sending it again invites only the rest.
"""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from tortoise.transactions import in_transaction

from models.organisations import Organisation
from web.admin.onboarding_checks import check
from web.admin.onboarding_csv import MAX_BYTES, MAX_ROWS, Row, Unreadable, decode, read_rows
from web.admin.rules import admin_page, administrator, change_refused, changed, councils
from web.core import clock, inputs, ratelimit
from web.core.auth import me
from web.core.budgets import PAGE, queries
from web.core.forms import MAX_ID, form_int
from web.core.invitations import send_invitation

FORM = "/admin/practitioners/upload"
BULK_PER_HOUR = MAX_ROWS
#: How long a preview may wait before it is sent.
PREVIEW_SECONDS = 3600


class ClockSigner(TimestampSigner):
    """Timestamps from the app's clock (which tests move), not the system's."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


def signer(request: Request) -> URLSafeTimedSerializer:
    secret = request.app.state.settings.secret_key
    return URLSafeTimedSerializer(secret, salt="admin.onboarding", signer=ClockSigner)


async def form_page(
    request: Request, errors: dict[str, str] | None = None, status_code: int = 200
) -> Response:
    query = request.query_params
    return await admin_page(
        request,
        "admin/onboarding.html",
        {
            "errors": errors or {},
            # What reaches this route: the input guard may allow a form less than a file.
            "max_kb": min(MAX_BYTES, inputs.MAX_BODY_BYTES - 1024) // 1024,
            "max_rows": MAX_ROWS,
            "sent": form_int(query.get("sent"), low=0, high=MAX_ID),
            "held": form_int(query.get("held"), low=0, high=MAX_ID) or 0,
            "skipped": form_int(query.get("skipped"), low=0, high=MAX_ID) or 0,
        },
        status_code=status_code,
    )


@queries(PAGE)
@administrator
async def upload_form(request: Request) -> Response:
    """The staff list form: a file, or rows pasted from a spreadsheet."""
    return await form_page(request)


async def uploaded_text(request: Request) -> str:
    """The staff list the form carried, as text; Unreadable when there is none or too much."""
    async with request.form(max_files=1, max_fields=10) as form:
        upload, pasted = form.get("file"), form.get("rows")
        if isinstance(upload, UploadFile) and upload.filename:
            data = await upload.read(MAX_BYTES + 1)
            if len(data) > MAX_BYTES:
                raise Unreadable(
                    f"That file is over {MAX_BYTES // 1024} KB: split it and try again"
                )
            return decode(data)
    if isinstance(pasted, str) and pasted.strip():
        return decode(pasted.encode())  # the same checks as a file's (no NUL)
    raise Unreadable("Choose the CSV file with your staff list, or paste its rows")


@queries(8)
@administrator
async def preview(request: Request) -> Response:
    """Every row of the staff list with its problems flagged; nothing is sent yet."""
    if (refusal := change_refused(request, "To invite staff", FORM)) is not None:
        return refusal
    try:
        rows, has_header = read_rows(await uploaded_text(request))
    except Unreadable as problem:
        field = "file" if "multipart" in request.headers.get("content-type", "") else "rows"
        return await form_page(request, {field: str(problem)}, status_code=422)
    await check(rows, await councils(request))
    good = [r for r in rows if r.good]
    payload = signer(request).dumps(
        {
            "by": me(request).id,
            "rows": [
                [r.name, r.email, r.job_title, r.organisation.id] for r in good if r.organisation
            ],
        }
    )
    return await admin_page(
        request,
        "admin/onboarding_preview.html",
        {"rows": rows, "good": len(good), "has_header": has_header, "payload": payload},
    )


def unsigned(request: Request, raw: object) -> list[tuple[str, str, str, int]]:
    """The (name, email, job title, organisation id) rows a preview signed for this
    administrator in the last hour; ValueError for anything else."""
    data: Any = signer(request).loads(str(raw or ""), max_age=PREVIEW_SECONDS)
    rows = data.get("rows") if isinstance(data, dict) and data.get("by") == me(request).id else None
    if not isinstance(rows, list) or len(rows) > MAX_ROWS:
        raise ValueError("not this administrator's preview")
    for row in rows:
        shaped = isinstance(row, list) and len(row) == 4 and type(row[3]) is int
        if not shaped or not all(isinstance(v, str) for v in row[:3]) or not 0 < row[3] <= MAX_ID:
            raise ValueError("not a preview's row")
    return [tuple(row) for row in rows]  # type: ignore[misc]


async def signed_rows(request: Request) -> list[Row]:
    """The rows of the preview the form carries; 400 when it is not one signed for this
    administrator in the last hour."""
    try:
        rows = unsigned(request, (await request.form()).get("payload"))
    except (BadSignature, ValueError) as problem:
        raise HTTPException(
            400, "That preview has expired or was changed on the way. Upload the staff list again."
        ) from problem
    found = await Organisation.in_bulk([o for *_, o in rows], "id")
    return [
        Row(n, name, email, title, found[o].name if o in found else "", found.get(o))
        for n, (name, email, title, o) in enumerate(rows, 1)
    ]


@queries(23)
@administrator
async def send(request: Request) -> Response:
    """Invite the good rows of a previewed staff list (those still good now)."""
    if (refusal := change_refused(request, "To invite staff", FORM)) is not None:
        return refusal
    rows = await signed_rows(request)
    await check(rows, await councils(request))
    good = [r for r in rows if r.good and r.organisation]
    allowed: list[Row] = []
    for row in good:
        if not await ratelimit.hit(f"onboard:{me(request).id}", BULK_PER_HOUR):
            break
        allowed.append(row)
    settings = request.app.state.settings
    if allowed:
        async with in_transaction():
            invited = [
                (
                    await send_invitation(
                        settings, row.email, me(request), organisation=row.organisation
                    )
                )[0]
                for row in allowed
            ]
            await changed(
                request,
                "practitioners.invited",
                count=len(invited),
                invitation_ids=[i.id for i in invited],
                organisation_ids=sorted({r.organisation.id for r in allowed if r.organisation}),
            )
    held, skipped = len(good) - len(allowed), len(rows) - len(good)
    return RedirectResponse(
        f"{FORM}?sent={len(allowed)}&held={held}&skipped={skipped}", status_code=303
    )


routes: list[BaseRoute] = [
    Route(FORM, upload_form, methods=["GET"]),
    Route(FORM, preview, methods=["POST"]),
    Route(f"{FORM}/send", send, methods=["POST"]),
]
