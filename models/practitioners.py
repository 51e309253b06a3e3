"""Practitioners: the signed-in professionals, and the areas they chose."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.areas import Area
    from models.organisations import Organisation
    from models.teams import Membership

ROLES = ("practitioner", "local_admin", "state_admin")
#: How each alert channel delivers: immediately, in the 07:00 digest, or not at all.
DELIVERY = ("immediate", "digest", "off")
#: Signup steps after which a practitioner is fully signed up (see web/signup/steps.py).
SIGNUP_ANSWERED = 6


def listed_sql(alias: str) -> str:
    """Listed in the phone book (active, signup answered), in SQL, for the practitioner
    aliased `alias`: web/core/access.py `listed_in_phone_book` is the same rule for the ORM."""
    return f"{alias}.active AND {alias}.signup_step >= {SIGNUP_ANSWERED}"


class Practitioner(Model):
    """A professional who signs in. Belongs to one organisation."""

    id = fields.IntField(primary_key=True)
    #: Work email, lower-case, the sign-in identity.
    email = fields.CharField(max_length=254, unique=True)
    name = fields.CharField(max_length=120)
    job_title = fields.CharField(max_length=120, default="")
    organisation_id: int
    organisation_vouched_by_id: int | None
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="practitioners", on_delete=fields.RESTRICT
    )
    #: Who vouched for the organisation, when it came only from their invitation (the email's
    #: domain is nobody's). Practitioners are deactivated, never deleted: RESTRICT keeps a
    #: voucher from vanishing and leaving the organisation looking confirmed.
    organisation_vouched_by: fields.ForeignKeyNullableRelation[Practitioner] = (
        fields.ForeignKeyField(
            "models.Practitioner", related_name="vouched_for", null=True, on_delete=fields.RESTRICT
        )
    )
    #: When an administrator confirmed a vouched-for organisation.
    organisation_confirmed_at = fields.DatetimeField(null=True)
    phone = fields.CharField(max_length=40, default="")
    mobile = fields.CharField(max_length=40, default="")
    #: One of ROLES.
    role = fields.CharField(max_length=20, default="practitioner")
    #: Deactivated practitioners cannot sign in, their history remains.
    active = fields.BooleanField(default=True)
    #: Single sign-on identity: (issuer, subject) is unique across providers.
    oidc_issuer = fields.CharField(max_length=300, null=True)
    oidc_subject = fields.CharField(max_length=255, null=True)
    #: Alert delivery per channel, each one of DELIVERY.
    notify_in_app = fields.CharField(max_length=10, default="immediate")
    notify_email = fields.CharField(max_length=10, default="immediate")
    notify_push = fields.CharField(max_length=10, default="immediate")
    #: Signup progress (0 = not started, 7 = finished) so a practitioner can leave and resume.
    signup_step = fields.SmallIntField(default=7)
    walkthrough_done = fields.BooleanField(default=False)
    #: Help banners this practitioner dismissed, by key.
    dismissed_banners: fields.Field[list[str]] = fields.JSONField(default=list)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_seen_at = fields.DatetimeField(null=True)
    #: Goes up whenever their chosen areas or current teams change, so each process may keep
    #: the search scopes computed from them until it does (web/core/scopes.py).
    scope_version = fields.IntField(default=0, db_default=0)
    #: Whether client search also looks first in the areas of the practitioner's own clients.
    #: Someone whose clients are statewide may turn it off and keep only the areas they chose.
    automatic_areas = fields.BooleanField(default=True, db_default=True)
    #: Whether the family's cards list them by default (models.family.LISTINGS), or "" for
    #: their service's usual way: police and child protection ask each time, others list.
    family_listing = fields.CharField(max_length=5, default="", db_default="")

    chosen_areas: fields.ReverseRelation[PractitionerArea]
    admin_areas: fields.ReverseRelation[AdminArea]
    memberships: fields.ReverseRelation[Membership]

    class Meta:
        table = "practitioner"
        ordering = ["name"]
        unique_together = (("oidc_issuer", "oidc_subject"),)

    def __str__(self) -> str:
        return self.name

    @property
    def is_admin(self) -> bool:
        return self.role in ("local_admin", "state_admin")

    @property
    def signed_up(self) -> bool:
        """True once the signup questions are answered (see web/signup/steps.py)."""
        return self.signup_step >= SIGNUP_ANSWERED

    @property
    def organisation_vouched_only(self) -> bool:
        """True while the organisation rests only on an inviter's word: no email domain proves
        it and no administrator has confirmed it yet."""
        vouched = self.organisation_vouched_by_id is not None
        return vouched and self.organisation_confirmed_at is None


class PractitionerArea(Model):
    """A council area a practitioner chose as one of theirs (search looks there first)."""

    id = fields.IntField(primary_key=True)
    practitioner: fields.ForeignKeyRelation[Practitioner] = fields.ForeignKeyField(
        "models.Practitioner", related_name="chosen_areas", on_delete=fields.CASCADE
    )
    area: fields.ForeignKeyRelation[Area] = fields.ForeignKeyField(
        "models.Area", related_name="chosen_by", on_delete=fields.CASCADE
    )
    #: Order of choice: the first is the default area for new clients.
    position = fields.SmallIntField(default=0)

    class Meta:
        table = "practitioner_area"
        ordering = ["position", "id"]
        unique_together = (("practitioner", "area"),)


class AdminArea(Model):
    """An area a local administrator looks after: a district, a council, or the state (every
    council beneath it). A local administrator holds one or more."""

    id = fields.IntField(primary_key=True)
    practitioner: fields.ForeignKeyRelation[Practitioner] = fields.ForeignKeyField(
        "models.Practitioner", related_name="admin_areas", on_delete=fields.CASCADE
    )
    area: fields.ForeignKeyRelation[Area] = fields.ForeignKeyField(
        "models.Area", related_name="administered_by", on_delete=fields.CASCADE
    )

    class Meta:
        table = "admin_area"
        ordering = ["id"]
        unique_together = (("practitioner", "area"),)
