"""The client-name search index: a vocabulary of name words and postings that point from a
word to the clients (and their council areas) whose names contain it.

Kept in step with every client write, in the same transaction (web/core/search.py does it).
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class NameWord(Model):
    """One normalised name word ("thompson", "obrien", "zoe"), once."""

    id = fields.IntField(primary_key=True)
    word = fields.CharField(max_length=80, unique=True)

    class Meta:
        table = "name_word"


class ClientNameWord(Model):
    """A posting: this word occurs in this client's names, and the client lives in this area.

    The area is copied here so one index, (word, area, client), answers "clients called X in
    these areas" without touching the client table.
    """

    id = fields.BigIntField(primary_key=True)
    word_id = fields.IntField()
    area_id = fields.IntField()
    client_id = fields.IntField()

    class Meta:
        table = "client_name_word"
        unique_together = (("word_id", "area_id", "client_id"),)
        indexes = (("client_id",),)
