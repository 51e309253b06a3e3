"""Organisations (agencies, or services within one) and the email domains they own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.areas import Area
    from models.practitioners import Practitioner

#: Service types shown in the phone book and used to suggest roles.
SERVICE_TYPES = (
    "Maternal & Child Health",
    "Youth Services",
    "Child Protection",
    "Family Services",
    "Education",
    "School Nursing",
    "Health",
    "General Practice",
    "Police",
    "Housing",
    "Mental Health",
    "Alcohol & Other Drugs",
    "Family Violence",
    "Disability",
    "Other",
)


class Organisation(Model):
    """An agency or a service within one, e.g. "Brimbank City Council — Maternal & Child Health"."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200, unique=True)
    service_type = fields.CharField(max_length=60)
    area_id: int
    #: The council area it is based in (suggests areas at signup, local-first phone book).
    area: fields.ForeignKeyRelation[Area] = fields.ForeignKeyField(
        "models.Area", related_name="organisations", on_delete=fields.RESTRICT
    )
    #: Sensitive services (mental health, AOD, family violence…) join teams discreetly by default.
    sensitive = fields.BooleanField(default=False)
    duty_phone = fields.CharField(max_length=40, default="")
    duty_email = fields.CharField(max_length=254, default="")
    #: Optional OpenID Connect single sign-on for the organisation's domains.
    oidc_issuer = fields.CharField(max_length=300, default="")
    oidc_client_id = fields.CharField(max_length=200, default="")
    oidc_client_secret = fields.CharField(max_length=300, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    #: The agency this organisation is a service within, if any.
    parent: fields.ForeignKeyNullableRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="services", null=True, on_delete=fields.SET_NULL
    )
    parent_id: int | None
    domains: fields.ReverseRelation[OrganisationDomain]
    areas_served: fields.ReverseRelation[OrganisationArea]
    practitioners: fields.ReverseRelation[Practitioner]

    class Meta:
        table = "organisation"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def has_sso(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)


class OrganisationDomain(Model):
    """An email domain an organisation owns: its staff may sign up, and SSO applies to it."""

    id = fields.IntField(primary_key=True)
    #: Lower-case, e.g. "brimbank.example".
    domain = fields.CharField(max_length=253, unique=True)
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="domains", on_delete=fields.CASCADE
    )

    class Meta:
        table = "organisation_domain"
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain


class OrganisationArea(Model):
    """A council area an organisation serves, besides the one it is based in."""

    id = fields.IntField(primary_key=True)
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="areas_served", on_delete=fields.CASCADE
    )
    area: fields.ForeignKeyRelation[Area] = fields.ForeignKeyField(
        "models.Area", related_name="served_by", on_delete=fields.CASCADE
    )

    class Meta:
        table = "organisation_area"
        ordering = ["id"]
        unique_together = (("organisation", "area"),)
