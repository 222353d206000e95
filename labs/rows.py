"""Single-row inserts and updates in SQL, for the statements every coach turn runs.

Every turn writes three rows and updates three more on the one database thread all the lab
sockets of a process share (`labs.dbthread`). Through the ORM, compiling those statements
cost several times what the database spent running them (1.6 ms of CPU a turn, most of it
in the query compiler). These helpers write the same SQL the ORM would, built once per model
and field list, with each value prepared by its model field (`get_db_prep_save`: JSON,
decimals and datetimes come out as the backend expects them, on SQLite and PostgreSQL
alike). Anything not on the path of every turn stays in the ORM.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.db.models import Field, Model

_inserts: dict[type[Model], tuple[str, list[Field[Any, Any]]]] = {}


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _column(field: Field[Any, Any]) -> str:
    if field.column is None:
        raise TypeError(f"{field} has no column")
    return _quote(field.column)


def table(model: type[Model]) -> str:
    """The model's table name, quoted for SQL."""
    return _quote(model._meta.db_table)


def _field(model: type[Model], name: str) -> Field[Any, Any]:
    field = model._meta.get_field(name)
    if not isinstance(field, Field):
        raise TypeError(f"{model.__name__}.{name} is not a column")
    return field


def column(model: type[Model], name: str) -> str:
    """A field's column name, quoted for SQL."""
    return _column(_field(model, name))


def insert(obj: Model) -> None:
    """Store a new model instance as one row and set its primary key, as `save()` would.

    Fields left unset take their defaults, `auto_now(_add)` fields the current time.
    """
    model = type(obj)
    if model not in _inserts:
        meta = model._meta
        fields = [f for f in meta.concrete_fields if not f.primary_key]
        names = ", ".join(_column(f) for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        sql = f"INSERT INTO {table(model)} ({names}) VALUES ({marks}) RETURNING {_column(meta.pk)}"
        _inserts[model] = (sql, fields)
    sql, fields = _inserts[model]
    params = [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        obj.pk = cursor.fetchone()[0]
    obj._state.adding = False
    obj._state.db = connection.alias


def update(model: type[Model], values: dict[str, Any], where: str, params: Sequence[Any]) -> int:
    """`UPDATE` the rows `where` (SQL, `%s` for `params`) says with `values` (field name:
    value, each prepared by its field); the number of rows changed."""
    sql, fields = _update_statement(model, tuple(values), where)
    prepared = [
        f.get_db_prep_save(value, connection)
        for f, value in zip(fields, values.values(), strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*prepared, *params])
        return int(cursor.rowcount)


@functools.cache
def _update_statement(
    model: type[Model], names: tuple[str, ...], where: str
) -> tuple[str, list[Field[Any, Any]]]:
    fields = [_field(model, name) for name in names]
    sets = ", ".join(f"{_column(f)} = %s" for f in fields)
    return f"UPDATE {table(model)} SET {sets} WHERE {where}", fields


def select(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def moment(value: datetime | str) -> datetime:
    """A `DateTimeField` value read by plain SQL, as the ORM returns it: aware, in UTC.

    SQLite gives back text (or a naive datetime) in UTC; PostgreSQL an aware datetime.
    """
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
