"""Plain inserts of new rows, with each statement built once per model and row count.

``Model.save()`` and ``bulk_create()`` compile their ``INSERT`` afresh every time: for the five to
seven rows an application writes (case, materials, event, notification, audit entry, outbox message)
that compilation was about a third of a submission's CPU (bench/findings.md). :func:`rows_insert`
does what they do for a new row (``pre_save`` of every field, so ``auto_now_add`` dates, defaults and
files behave the same; the database's preparation of each value; the new primary key set on the
object) with the SQL text kept per model. It sends no ``pre_save``/``post_save`` signals, so rows of
a model that has receivers, and anything unusual (inherited models, expressions as values, a primary
key given for an auto-increment key), are saved one by one with ``save(force_insert=True)`` instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from django.db import connections, router
from django.db.models import AutoField, BigAutoField, Model, SmallAutoField
from django.db.models.signals import post_save, pre_save

_AUTO = (AutoField, BigAutoField, SmallAutoField)
_PLANS: dict[tuple, tuple[list, str, bool]] = {}


def _plan(model: type[Model], connection, count: int) -> tuple[list, str, bool]:
    meta = model._meta
    auto_pk = isinstance(meta.pk, _AUTO)
    fields = [f for f in meta.local_concrete_fields if not f.generated and not (auto_pk and f.primary_key)]
    quote = connection.ops.quote_name
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES {', '.join([row] * count)}"
    )
    returning = auto_pk and connection.features.can_return_rows_from_bulk_insert
    if returning:
        sql += f" RETURNING {quote(meta.pk.column)}"
    return fields, sql, returning


def _plain(model: type[Model], objs: Sequence[Model], connection) -> bool:
    """Whether these rows can take the plain path (see the module's docstring)."""
    meta = model._meta
    if meta.parents or pre_save.has_listeners(model) or post_save.has_listeners(model):
        return False
    if isinstance(meta.pk, _AUTO):
        if any(obj.pk is not None for obj in objs):
            return False
        if len(objs) > 1 and not connection.features.can_return_rows_from_bulk_insert:
            return False
    return not _custom_placeholders(model)


@cache
def _custom_placeholders(model: type[Model]) -> bool:
    return any(getattr(f, "get_placeholder", None) for f in model._meta.local_concrete_fields)


def _save_each(objs: Sequence[Model], alias: str) -> None:
    for obj in objs:
        obj.save(force_insert=True, using=alias)


def rows_insert(objs: Sequence[Model]) -> None:
    """Inserts ``objs`` (new instances of one model) in one statement and sets their primary keys."""
    if not objs:
        return
    model = type(objs[0])
    alias = router.db_for_write(model)
    connection = connections[alias]
    if not _plain(model, objs, connection):
        _save_each(objs, alias)
        return
    key = (model, alias, len(objs))
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS[key] = _plan(model, connection, len(objs))
    fields, sql, returning = plan
    params = []
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="save")
        for field in fields:
            value = field.pre_save(obj, True)
            if hasattr(value, "resolve_expression"):
                _save_each(objs, alias)
                return
            params.append(field.get_db_prep_save(value, connection=connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if returning:
            for obj, row in zip(objs, cursor.fetchall(), strict=True):
                obj.pk = row[0]
        elif isinstance(model._meta.pk, _AUTO):
            objs[0].pk = connection.ops.last_insert_id(cursor, model._meta.db_table, model._meta.pk.column)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = alias
