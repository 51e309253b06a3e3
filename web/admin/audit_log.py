"""The audit log: filtered, keyset-paginated, exported as CSV, and who viewed or searched
for a client. Looking at it and downloading it are audited too."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from web.admin.audit_log_events import GROUPS, OWN_VIEWS
from web.admin.audit_log_query import (
    CSV_CAP,
    PAGE,
    Filters,
    cursor,
    events,
    matching,
    people,
    read_cursor,
    read_filters,
    rows,
)
from web.admin.rules import admin_page, administrator, area_choices, councils, viewed
from web.core import budgets, clock
from web.core.errors import error_page

TEMPLATE = "admin/audit.html"
COLUMNS = ["When", "Who", "Email", "What", "Client id", "Area", "Detail"]
#: A spreadsheet runs a cell beginning with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_BATCH = 500


async def checked(request: Request) -> tuple[Filters, list[int] | None, Response | None]:
    """The filters, the councils looked after, and the refusal to send instead, if any."""
    looked_after = await councils(request)
    areas = await area_choices(looked_after)
    filters = read_filters(request.query_params, areas)
    request.state.audit_areas = areas
    if filters.errors:
        return filters, looked_after, await page(request, filters, status_code=422)
    return filters, looked_after, None


async def page(
    request: Request, filters: Filters, status_code: int = 200, **values: object
) -> Response:
    """The audit log page (or its results block, for htmx)."""
    return await admin_page(
        request,
        TEMPLATE,
        {
            "filters": filters,
            "typed": filters.typed,
            "errors": filters.errors,
            "areas": request.state.audit_areas,
            "groups": GROUPS,
            "own_views": OWN_VIEWS,
            "page_size": PAGE,
            "csv_cap": CSV_CAP,
            "time_zone": clock.zone().key,
            "rows": [],
            "people": [],
            "older": "",
            "first_page": True,
            **values,
        },
        block="results",
        status_code=status_code,
    )


@budgets.queries(9)
@administrator
async def audit_log(request: Request) -> Response:
    """The events the administrator may see, newest first, 50 a page."""
    filters, looked_after, refusal = await checked(request)
    if refusal is not None:
        return refusal
    after_text = request.query_params.get("after", "")
    after = read_cursor(after_text) if after_text else None
    if after_text and after is None:
        return error_page(
            request,
            400,
            "That link to older events was damaged or made by hand. Start again from the "
            "newest events.",
            title="That page of the audit log does not exist",
            action_url="/admin/audit",
            action_label="Go to the audit log",
        )
    where = matching(looked_after, filters)
    found = await events(where, after, PAGE + 1)
    by = await people(where) if filters.client is not None and after is None else []
    shown = found[:PAGE]
    older = filters.query(after=cursor(shown[-1])) if len(found) > PAGE else ""
    await viewed(request, "audit", filters=filters.detail(), older=after is not None)
    return await page(
        request, filters, rows=await rows(shown), people=by, older=older, first_page=after is None
    )


def safe(cell: str) -> str:
    """A cell a spreadsheet shows as text: a leading formula character gets a quote."""
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell


@budgets.queries(9)
@administrator
async def audit_csv(request: Request) -> Response:
    """Every event the filters match (at most CSV_CAP), newest first, as the table shows them."""
    filters, looked_after, refusal = await checked(request)
    if refusal is not None:
        return refusal
    where = matching(looked_after, filters)
    await viewed(request, "audit", "admin.exported", filters=filters.detail())

    async def lines() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(COLUMNS)
        sent, after = 0, None
        while sent < CSV_CAP:
            batch = await events(where, after, min(CSV_BATCH, CSV_CAP - sent))
            for row in await rows(batch):
                writer.writerow([safe(cell) for cell in row.cells()])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            sent += len(batch)
            if len(batch) < CSV_BATCH:
                break
            after = (batch[-1].at, batch[-1].id)

    name = f"patchwork-audit-{clock.today().isoformat()}.csv"
    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


routes: list[BaseRoute] = [
    Route("/admin/audit", audit_log, methods=["GET"]),
    Route("/admin/audit.csv", audit_csv, methods=["GET"]),
]
