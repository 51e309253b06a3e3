"""A practitioner's details and areas: the checks and saves signup's questions and the profile
share (name and job title, phone numbers, council areas)."""

from __future__ import annotations

import re
from typing import Any

from starlette.datastructures import FormData

from models.areas import Area
from models.practitioners import Practitioner, PractitionerArea
from web.core.areas import area_tree
from web.core.forms import MAX_ID, form_int
from web.core.scopes import scope_changed

PHONE_SHAPE = re.compile(r"^[0-9+() -]{6,40}$")


MAX_AREAS = 12


Answers = dict[str, Any]


Errors = dict[str, str]


async def councils_by_district() -> list[tuple[str, list[Area]]]:
    councils = (await area_tree()).of_kind("council")
    districts: dict[str, list[Area]] = {}
    for council in councils:
        districts.setdefault(council.parent.name if council.parent else "Other", []).append(council)
    return sorted(districts.items())


async def chosen_area_ids(practitioner: Practitioner) -> list[int]:
    links = await PractitionerArea.filter(practitioner_id=practitioner.id).order_by(
        "position", "id"
    )
    return [link.area_id for link in links]  # type: ignore[attr-defined]


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
    known = {area.id for area in (await area_tree()).of_kind("council")}
    chosen = [i for i in dict.fromkeys(ids) if i in known]
    errors = {}
    if not chosen:
        errors["areas"] = "Choose at least one council area you work in"
    elif len(chosen) > MAX_AREAS:
        errors["areas"] = f"Choose at most {MAX_AREAS} council areas"
    return {"areas": chosen}, errors


async def save_areas(practitioner: Practitioner, area_ids: list[int]) -> None:
    await scope_changed(practitioner.id)
    await PractitionerArea.filter(practitioner_id=practitioner.id).delete()
    await PractitionerArea.bulk_create(
        [
            PractitionerArea(practitioner_id=practitioner.id, area_id=area_id, position=n)
            for n, area_id in enumerate(area_ids)
        ]
    )
