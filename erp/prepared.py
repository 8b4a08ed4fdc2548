"""SQL statements PREPAREd once per PostgreSQL session and run with ``EXECUTE``.

Django's psycopg backend binds values on the client side (the values go inline in the SQL
text), so PostgreSQL parses and plans every statement on every call. For the few hot
statements of a pack-station confirmation (one transaction per parcel, several CTE
statements each) that planning cost more server CPU than running them. A ``Prepared``
statement is parsed and planned once per session; PostgreSQL switches to a generic plan
after five executions when it is no worse than the custom ones.

A prepared statement lives as long as its session, so what each session holds is kept per
psycopg connection object (weak references: a closed connection drops out, a reconnect is a
new object). A statement's name carries a digest of its text and parameter types, so a
session never runs an older definition under a newer name. A session that lost a statement
behind our back (``DEALLOCATE ALL``, ``DISCARD ALL``, a transaction-mode pooler handing
over another session) fails with SQLSTATE 26000: ``forget_if_lost`` says so, and the caller
runs its transaction again, which prepares again.
"""

from __future__ import annotations

import hashlib
import re
import weakref
from collections.abc import Callable, Sequence
from functools import cached_property

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

STATEMENT_MISSING = "26000"

# psycopg connection -> names of the statements its session holds
_held: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class Prepared:
    """A statement prepared on first use in each session. ``build`` returns its SQL with
    ``$1``, ``$2``… placeholders and the PostgreSQL type of each parameter (from the model
    fields it is compared with or written to: a value the column cannot hold then fails at
    ``EXECUTE`` every time, whatever the plan). Built on first use: the models and the
    connection's vendor are known then."""

    def __init__(self, label: str, build: Callable[[], tuple[str, Sequence[str]]]) -> None:
        if not re.fullmatch(r"[a-z_]+", label):
            raise ValueError(f"Statement label must be lower-case letters and _: {label!r}")
        self.label = label
        self._build = build

    @cached_property
    def _definition(self) -> tuple[str, str, tuple[str, ...]]:
        sql, types = self._build()
        types = tuple(types)
        digest = hashlib.sha1(f"{types}\n{sql}".encode(), usedforsecurity=False).hexdigest()
        return f"caravan_{self.label}_{digest[:10]}", sql, types

    @property
    def name(self) -> str:
        return self._definition[0]

    @cached_property
    def prepare_sql(self) -> str:
        name, sql, types = self._definition
        return (
            f"PREPARE {name} ({', '.join(types)}) AS {sql}" if types else f"PREPARE {name} AS {sql}"
        )

    @cached_property
    def execute_sql(self) -> str:
        """``EXECUTE`` with one ``%s`` per parameter, for ``cursor.execute(sql, params)``."""
        name, _sql, types = self._definition
        return f"EXECUTE {name} ({', '.join(['%s'] * len(types))})" if types else f"EXECUTE {name}"


def ensure_prepared(*statements: Prepared, using: str = DEFAULT_DB_ALIAS) -> None:
    """Make sure the current session holds ``statements``: nothing to do (no round trip) once
    they are; else the missing ones are prepared in one round trip (after one asking which
    the session has: a session we did not open may hold them already). ``PREPARE`` is not
    undone by a rollback, so this may run inside any transaction."""
    db = connections[using]
    db.ensure_connection()
    session = db.connection
    held = _held.get(session)
    if held is not None and all(s.name in held for s in statements):
        return
    if held is None:
        held = _held[session] = set()
    wanted = {s.name: s for s in statements if s.name not in held}
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM pg_prepared_statements WHERE name = ANY(%s)", [list(wanted)]
        )
        there = {row[0] for row in cursor.fetchall()}
        missing = [s.prepare_sql for name, s in wanted.items() if name not in there]
        if missing:
            cursor.execute("; ".join(missing))
    held.update(wanted)


def execute(cursor, sql: str, params: Sequence) -> None:
    """``cursor.execute`` of ``EXECUTE`` statements; a session found to have lost one is
    forgotten at once, so whatever the caller does next (retry, or fail this one and go on)
    prepares again instead of failing on every later call."""
    try:
        cursor.execute(sql, params)
    except DatabaseError as exc:
        forget_if_lost(exc)
        raise


def forget_if_lost(exc: BaseException, using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether ``exc`` is a session missing a statement we thought it held; if so, what we
    knew of the session is dropped, so the caller's next try prepares again. The error
    aborted the transaction: the caller retries the whole of it."""
    if getattr(exc.__cause__, "sqlstate", None) != STATEMENT_MISSING:
        return False
    session = connections[using].connection
    if session is not None:
        _held.pop(session, None)
    return True


def column_type(model, name: str) -> str:
    """The PostgreSQL type of a model field's column, for a parameter written to it or
    compared with it (a foreign key: its target's key type)."""
    return model._meta.get_field(name).db_type(connections[DEFAULT_DB_ALIAS])


def numbered(sql: str, names: Sequence[str] | None = None) -> str:
    """``sql`` with its client-side placeholders as ``$n``: ``%s`` in order, or
    ``%(name)s`` by the position of ``name`` in ``names``. The SQL must hold no other ``%``."""
    if names is None:
        count = iter(range(1, sql.count("%s") + 1))
        return re.sub(r"%s", lambda _m: f"${next(count)}", sql)
    position = {name: i for i, name in enumerate(names, start=1)}
    return re.sub(r"%\((\w+)\)s", lambda m: f"${position[m.group(1)]}", sql)
