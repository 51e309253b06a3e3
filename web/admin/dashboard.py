"""The dashboard by council area: figures, growth charts and their tables, and CSV.

`GET /admin?district=&council=` (both optional: every council looked after),
`GET /admin/figures.csv` and `GET /admin/growth.csv?series=` take the same filters. Every view
and download is audited. The figures and the discreet-member rule: `dashboard_figures`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from web.admin.dashboard_charts import chart
from web.admin.dashboard_figures import FIGURES, SERIES, Figures, figures, shown
from web.admin.rules import admin_page, administrator, area_choices, councils, viewed
from web.core import clock
from web.core.budgets import queries
from web.core.errors import error_page
from web.core.family import current_cards_by_council

TEMPLATE = "admin/dashboard.html"
#: Retention's counts shown (memberships are left out: a discreet one may be among them).
REMOVED = (("attentions", "attentions"), ("circle_links", "circle links"),
           ("search_postings", "search entries"), ("notifications", "notifications"))  # fmt: skip


@dataclass(frozen=True)
class Selection:
    """What the filters chose: the district and council ids as typed, and the councils."""

    district: str
    council: str
    councils: list[tuple[int, str]]
    label: str


async def selection(request: Request) -> Selection | Response:
    """The councils the filters choose among those looked after, or the refusal to send."""
    areas = await area_choices(await councils(request))
    request.state.dashboard_areas = areas
    district = request.query_params.get("district", "")
    council = request.query_params.get("council", "")
    for value in (district, council):
        if value and not (value.isascii() and value.isdecimal() and len(value) <= 12):
            return error_page(request, 400, "Choose a district or council from the lists.",
                              title="That is not an area", action_url="/admin",
                              action_label="Go to the overview")  # fmt: skip
    districts = {str(d.id): (d, cs) for d, cs in areas}
    every = {str(c.id): (c, d) for d, cs in areas for c in cs}
    if (district and district not in districts) or (council and council not in every):
        return error_page(request, 404, "That area is not one you look after.",
                          title="Not one of your areas", action_url="/admin",
                          action_label="Go to the overview")  # fmt: skip
    if council and district and every[council][1].id != int(district):
        name = districts[district][0].name
        return error_page(request, 422, f"That council is not in {name}. Choose one of its "
                          "councils, or “All councils”.", action_url="/admin",
                          action_label="Go to the overview")  # fmt: skip
    if council:
        chosen = [every[council][0]]
        label = chosen[0].name
    elif district:
        chosen, label = districts[district][1], districts[district][0].name
    else:
        chosen = [c for _d, cs in areas for c in cs]
        label = "all your areas"
    return Selection(district, council, [(c.id, c.name) for c in chosen], label)


def table(found: Figures) -> list[list[str]]:
    """The per-council table, heading first and total last, exactly as page and CSV show it."""
    head = ["Council", *(heading for _key, heading, _s in FIGURES)]
    body = [[name, *(shown(k, cells, s) for k, _h, s in FIGURES)] for name, cells in found.rows]
    total = ["Total", *(shown(k, found.total, s) for k, _h, s in FIGURES)] if found.rows else []
    return [head, *body, *([total] if total else [])]


def growth_table(found: Figures, series: str = "") -> list[list[str]]:
    """Month by month (one series, or all), heading first."""
    wanted = [(k, h, s) for k, h, s in SERIES if not series or k == series]
    head = ["Month", *(heading for _key, heading, _s in wanted)]
    rows = [
        [month.label, *(shown(k, {k: found.growth[k][i]}, s) for k, _h, s in wanted)]
        for i, month in enumerate(found.span)
    ]
    return [head, *rows]


def retention(found: Figures) -> str:
    """When retention last ran and what it removed, from its newest `job.retention` event."""
    if found.retention is None:
        return "Retention has not run yet."
    at, detail = found.retention
    when = clock.as_local(at).strftime("%-d %B %Y at %H:%M")
    clients = int(str(detail.get("clients", 0)))
    others = ", ".join(f"{int(str(detail.get(k, 0))):,} {label}" for k, label in REMOVED)
    noun = "client" if clients == 1 else "clients"
    return f"Retention last ran on {when} and removed {clients:,} {noun} ({others})."


def as_of(found: Figures) -> str:
    """How old the figures are, when some were counted by the worker rather than just now."""
    if found.as_of is None:
        return ""
    return (
        f"Figures as of {clock.as_local(found.as_of):%H:%M}: they are counted again every few "
        "minutes."
    )


def query(chosen: Selection, **extra: str) -> str:
    pairs = {"district": chosen.district, "council": chosen.council, **extra}
    return "&".join(f"{k}={v}" for k, v in pairs.items() if v)


@queries(7)
@administrator
async def overview(request: Request) -> Response:
    """The figures for the chosen councils, growth charts with their tables, and retention."""
    chosen = await selection(request)
    if isinstance(chosen, Response):
        return chosen
    found = await figures(chosen.councils)
    by_council = table(found)
    months = [(m.label, m.short) for m in found.span]
    growth = growth_table(found)
    charts = [
        (chart(key, heading, months, [row[1 + n] for row in growth[1:]]), growth_table(found, key))
        for n, (key, heading, _s) in enumerate(SERIES)
    ]
    cards = await current_cards_by_council([council for council, _name in chosen.councils])
    await viewed(request, "dashboard", district=chosen.district, council=chosen.council)
    return await admin_page(
        request,
        TEMPLATE,
        {
            "areas": request.state.dashboard_areas,
            "chosen": chosen,
            "table": by_council,
            "totals": list(zip(by_council[0][1:], by_council[-1][1:], strict=True))
            if found.rows
            else [],
            "charts": charts,
            "retention": retention(found),
            "as_of": as_of(found),
            "family_cards": sum(cards.values()),
            "query": query(chosen),
            "series_query": lambda key: query(chosen, series=key),
            "time_zone": clock.zone().key,
        },
        block="dashboard",
    )


def csv_response(rows: list[list[str]], filename: str) -> Response:
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n").writerows(rows)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


@queries(5)
@administrator
async def figures_csv(request: Request) -> Response:
    """The per-council table as CSV, exactly as the page shows it."""
    chosen = await selection(request)
    if isinstance(chosen, Response):
        return chosen
    found = await figures(chosen.councils)
    await viewed(request, "dashboard", "admin.exported", table="figures",
                       district=chosen.district, council=chosen.council)  # fmt: skip
    return csv_response(table(found), "patchwork-figures.csv")


@queries(5)
@administrator
async def growth_csv(request: Request) -> Response:
    """The growth table (one series with `series`, else all) as CSV, as the page shows it."""
    chosen = await selection(request)
    if isinstance(chosen, Response):
        return chosen
    series = request.query_params.get("series", "")
    if series and series not in {key for key, _h, _s in SERIES}:
        return error_page(request, 404, "There is no such chart.")
    found = await figures(chosen.councils)
    await viewed(request, "dashboard", "admin.exported", table="growth",
                       series=series, district=chosen.district, council=chosen.council)  # fmt: skip
    return csv_response(
        growth_table(found, series), f"patchwork-growth{'-' + series if series else ''}.csv"
    )


routes: list[BaseRoute] = [
    Route("/admin", overview),
    Route("/admin/figures.csv", figures_csv),
    Route("/admin/growth.csv", growth_csv),
]
