"""Publishing on the PostgreSQL server while BI reads (slow; a throw-away cluster).

A reader logged in with role bi_reader queries the marts in a loop while the marts are
published again and again (barometre.engines.postgres.publish.publish_marts: marts_build
swapped into marts in one transaction). Every query must succeed (no missing table, no
permission refused between the swap and the grants) and see one whole publication:
every row of a mart from the same build, the full row count, and the two marts of one
statement from the same publication.

In a database of its own on the session's cluster, so it never touches the sample's
publication that tests/test_postgres.py reads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.slow

ROWS = 20_000
PUBLICATIONS = 12
MARTS = ("mart_a", "mart_b")


def _with_dbname(dsn: str, dbname: str, user: str | None = None) -> str:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = {**conninfo_to_dict(dsn), "dbname": dbname}
    if user:
        params["user"] = user
    return make_conninfo(**params)


@pytest.fixture
def swap_dsn(pg_dsn: str) -> Iterator[str]:
    from barometre.engines.postgres.connection import connect

    with connect(pg_dsn, autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS swap_readers")
        admin.execute("CREATE DATABASE swap_readers")
        if admin.execute("SELECT 1 FROM pg_roles WHERE rolname = 'bi_reader'").fetchone() is None:
            admin.execute("CREATE ROLE bi_reader NOLOGIN")
        if admin.execute("SELECT 1 FROM pg_roles WHERE rolname = 'swap_bi'").fetchone() is None:
            admin.execute("CREATE ROLE swap_bi LOGIN IN ROLE bi_reader")
    yield _with_dbname(pg_dsn, "swap_readers")
    with connect(pg_dsn, autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS swap_readers WITH (FORCE)")


def _build(dsn: str, generation: int) -> None:
    """What dbt leaves before publishing: the marts of one build in marts_build."""
    from barometre.engines.postgres.connection import connect

    with connect(dsn) as pg:
        pg.execute("CREATE SCHEMA marts_build")
        for mart in MARTS:
            pg.execute(
                f"CREATE TABLE marts_build.{mart} AS SELECT {generation} AS generation, i "
                f"FROM generate_series(1, {ROWS}) AS i"
            )


def _read(reader: Any, seen: list[tuple[int, int]], errors: list[str], stop: threading.Event):
    query = " , ".join(
        f"(SELECT row(count(*), min(generation), max(generation))::text FROM marts.{mart})"
        for mart in MARTS
    )
    while not stop.is_set():
        try:
            found = reader.execute(f"SELECT {query}").fetchone()
        except Exception as err:  # every failure is a finding: record it, keep reading
            errors.append(f"{type(err).__name__}: {err}")
            continue
        parsed = [tuple(int(v) for v in cell.strip("()").split(",")) for cell in found]
        for mart, (count, low, high) in zip(MARTS, parsed, strict=True):
            if count != ROWS or low != high:
                errors.append(f"{mart}: {count} rows, generations {low}..{high}")
        if parsed[0][1] != parsed[1][1]:
            errors.append(f"one statement saw generations {parsed[0][1]} and {parsed[1][1]}")
        seen.append((parsed[0][1], parsed[1][1]))


def test_a_bi_reader_never_sees_a_missing_or_half_published_mart(swap_dsn: str) -> None:
    from barometre.engines.postgres.connection import connect
    from barometre.engines.postgres.publish import publish_marts

    _build(swap_dsn, 0)
    publish_marts(swap_dsn, run_id="generation-0")
    reader = connect(_with_dbname(swap_dsn, "swap_readers", user="swap_bi"), autocommit=True)
    seen: list[tuple[int, int]] = []
    errors: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(target=_read, args=(reader, seen, errors, stop))
    thread.start()
    try:
        for generation in range(1, PUBLICATIONS + 1):
            _build(swap_dsn, generation)
            publish_marts(swap_dsn, run_id=f"generation-{generation}")
    finally:
        stop.set()
        thread.join(timeout=120)
        reader.close()
    assert not errors, errors[:10]
    generations = {g for g, _ in seen}
    # the reader really overlapped the publications (else this test proves nothing)
    assert len(generations) >= 3, generations
    # and it never went back to an older publication
    assert [g for g, _ in seen] == sorted(g for g, _ in seen)


def test_bi_users_views_go_with_the_previous_marts_functions_stay(swap_dsn: str) -> None:
    """What docs/scaling.md tells BI users: a view on the marts is dropped at the next
    publication (it depends on the previous tables); a SQL function whose body is a
    string resolves the marts' names when called, so it survives and reads the new ones."""
    from barometre.engines.postgres.connection import connect
    from barometre.engines.postgres.publish import publish_marts

    _build(swap_dsn, 1)
    publish_marts(swap_dsn)
    with connect(swap_dsn, autocommit=True) as pg:
        pg.execute("CREATE SCHEMA bi_own")
        pg.execute("CREATE VIEW bi_own.v AS SELECT max(generation) AS g FROM marts.mart_a")
        pg.execute(
            "CREATE FUNCTION bi_own.f() RETURNS integer LANGUAGE sql STABLE "
            "AS $$ SELECT max(generation) FROM marts.mart_a $$"
        )
    _build(swap_dsn, 2)
    publish_marts(swap_dsn)
    with connect(swap_dsn, autocommit=True) as pg:
        assert pg.execute("SELECT to_regclass('bi_own.v')").fetchone()[0] is None
        assert pg.execute("SELECT bi_own.f()").fetchone()[0] == 2
