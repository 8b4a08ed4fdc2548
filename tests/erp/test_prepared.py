"""Statements prepared once per PostgreSQL session (erp/prepared.py): prepared on first use,
then executed with no extra round trip; a session that holds them already (unknown to us) is
not asked to prepare them twice; a session that lost them is told apart from other errors;
and parameters keep their column types. ``numbered`` runs on both backends."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, DataError, connection, transaction
from django.test.utils import CaptureQueriesContext

from erp import prepared
from erp.prepared import Prepared, ensure_prepared, forget_if_lost, numbered


def test_numbered_placeholders_positional_and_named():
    assert numbered("SELECT %s, %s WHERE x = %s") == "SELECT $1, $2 WHERE x = $3"
    assert (
        numbered("SELECT %(b)s, %(a)s, %(b)s", ["a", "b"]) == "SELECT $2, $1, $2"
    )  # a name used twice is one parameter


def test_a_label_is_checked():
    with pytest.raises(ValueError, match="lower-case"):
        Prepared("Bad-Name", lambda: ("SELECT 1", []))


def _statement(label: str = "test_echo") -> Prepared:
    return Prepared(label, lambda: ("SELECT $1::text || '!', $2 + 1", ["varchar(5)", "smallint"]))


def _holds(statement: Prepared) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE name = %s", [statement.name]
        )
        return cursor.fetchone()[0] == 1


def _run(statement: Prepared, *params):
    with connection.cursor() as cursor:
        cursor.execute(statement.execute_sql, list(params))
        return cursor.fetchone()


@pytest.mark.postgres
@pytest.mark.django_db
def test_prepared_on_first_use_then_executed_without_a_round_trip():
    statement = _statement()
    with CaptureQueriesContext(connection) as first:
        ensure_prepared(statement)
    assert any("PREPARE" in q["sql"] for q in first.captured_queries)
    assert _holds(statement)
    with CaptureQueriesContext(connection) as again:
        ensure_prepared(statement)
    assert again.captured_queries == []
    assert _run(statement, "abc", 41) == ("abc!", 42)
    assert statement.name.startswith("caravan_test_echo_")


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_session_holding_it_unknown_to_us_is_not_asked_twice():
    statement = _statement()
    ensure_prepared(statement)
    prepared._held[connection.connection].discard(statement.name)  # as if never seen
    ensure_prepared(statement)  # PREPARE again would fail with 42P05
    assert _run(statement, "x", 1) == ("x!", 2)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_prepared_inside_a_transaction_outlives_its_rollback():
    statement = _statement("test_rollback")

    class Abort(Exception):
        """Raised to roll the block back."""

    with pytest.raises(Abort), transaction.atomic():
        ensure_prepared(statement)
        raise Abort
    assert _holds(statement)
    assert _run(statement, "y", 2) == ("y!", 3)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_lost_statement_is_told_apart_and_prepared_again():
    statement = _statement("test_lost")
    ensure_prepared(statement)
    with connection.cursor() as cursor:
        # as DISCARD ALL or a pooler would (only this one: the session's others stay, so the
        # tests that run next on this connection see no recovery they do not expect)
        cursor.execute(f"DEALLOCATE {statement.name}")
    with pytest.raises(DatabaseError) as lost:
        _run(statement, "z", 3)
    assert forget_if_lost(lost.value)
    ensure_prepared(statement)
    assert _run(statement, "z", 3) == ("z!", 4)
    failing = Prepared("test_failing", lambda: ("SELECT 1 / $1", ["integer"]))
    ensure_prepared(failing)
    with pytest.raises(DatabaseError) as other:
        _run(failing, 0)  # division by zero: not a lost statement
    assert not forget_if_lost(other.value)
    assert _holds(statement)  # and what we know of the session stays


@pytest.mark.postgres
@pytest.mark.django_db
def test_parameters_keep_their_column_types():
    statement = _statement("test_types")
    ensure_prepared(statement)
    with pytest.raises(DataError), transaction.atomic():
        _run(statement, "ok", 40_000)  # smallint
    # A parameter's length modifier is not applied (PostgreSQL drops typmods of parameters):
    # a text is never cut short; the column it is written to checks its length.
    assert _run(statement, "too long", 1) == ("too long!", 2)
