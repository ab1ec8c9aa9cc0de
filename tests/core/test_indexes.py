"""No table keeps an index that another of its indexes already provides.

A B-tree on ``(a, b)`` answers every look-up that one on ``(a)`` answers, so the single-column index
only costs: one more index entry (and its WAL) on every insert, and memory. Django adds such an
index to every foreign key by default; where a composite index or a unique constraint already starts
with the key's column, the field says ``db_index=False``.
"""

from __future__ import annotations

from django.apps import apps
from django.db import models


def _leading_columns(model) -> list[tuple[str, tuple[str, ...]]]:
    """Plain B-tree indexes and unique constraints of ``model`` with their columns, in order."""
    meta = model._meta
    column = lambda name: meta.get_field(name.lstrip("-")).column  # noqa: E731
    out = []
    for index in meta.indexes:
        if index.fields and not index.condition and not index.opclasses and not index.include:
            out.append((index.name, tuple(column(n) for n in index.fields)))
    for constraint in meta.constraints:
        if (
            isinstance(constraint, models.UniqueConstraint)
            and constraint.fields
            and not constraint.condition
            and not constraint.opclasses
            and not constraint.include
        ):
            out.append((constraint.name, tuple(column(n) for n in constraint.fields)))
    for fields in meta.unique_together:
        out.append(("unique_together", tuple(column(n) for n in fields)))
    return out


def _redundant_indexes(model) -> list[str]:
    meta = model._meta
    covering = _leading_columns(model)
    found = []
    for field in meta.local_concrete_fields:
        # Character columns get a second, pattern-matching index on PostgreSQL (LIKE 'x%'), which a
        # composite index does not replace.
        if not field.db_index or field.unique or field.primary_key:
            continue
        if isinstance(field, (models.CharField, models.TextField)):
            continue
        for name, columns in covering:
            if len(columns) > 1 and columns[0] == field.column:
                found.append(f"{meta.label}.{field.name} (covered by {name} {columns})")
    for name, columns in covering:
        for other, other_columns in covering:
            if (
                other != name
                and len(other_columns) > len(columns)
                and other_columns[: len(columns)] == columns
            ):
                found.append(f"{meta.label} index {name} {columns} (covered by {other} {other_columns})")
    return found


def test_no_index_is_covered_by_another_of_its_table():
    found = [
        entry
        for model in apps.get_models()
        if model.__module__.startswith("tongban.")
        for entry in _redundant_indexes(model)
    ]
    assert found == []


def test_the_check_finds_a_foreign_key_index_under_a_composite_one():
    """The check itself can fail: Django's default index on a foreign key that leads a composite."""

    class Probe(models.Model):  # noqa: DJ008
        owner = models.ForeignKey("accounts.User", on_delete=models.CASCADE)
        day = models.DateField()

        class Meta:
            app_label = "core"
            indexes = [models.Index(fields=["owner", "day"], name="probe_owner_day")]

    try:
        assert _redundant_indexes(Probe) == [
            "core.Probe.owner (covered by probe_owner_day ('owner_id', 'day'))"
        ]
    finally:
        # An unregistered test model: keep the app registry as it was for the other tests.
        apps.all_models["core"].pop("probe", None)
        apps.clear_cache()
