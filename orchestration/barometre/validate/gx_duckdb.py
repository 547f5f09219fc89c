"""Great Expectations on a DuckDB file: the one place that knows how to make them work together.

With great-expectations 1.24, duckdb 2.0, duckdb-engine 0.17 and SQLAlchemy 2.1:

1. GX has no DuckDB datasource: use its generic SQL datasource on `duckdb:///<path>`
   (through duckdb-engine).
2. GX loses rows. For every dialect except a few (sqlite, mssql, ...), GX opens a
   SQLAlchemy connection per query, executes it, *closes the connection* and only then
   fetches the rows. Closing rolls the DuckDB connection back, which discards the
   pending result: metrics come back empty ("list index out of range") or as
   `None`. Fix: the execution engine must use one persisted connection for the whole
   session (what GX does by itself for sqlite). `SQLDatasource` has no option for
   it (`create_temp_table` and `kwargs` don't help; a `StaticPool` doesn't either: the
   rollback is the connection's, not the pool's), so `_persist_connection` gives the
   datasource's execution engine a `get_connection` that always yields the same
   connection.
3. GX (and duckdb-engine) keep DuckDB connections open in their pools: until the
   engines are disposed, a later `duckdb.connect(path)` in the same process fails
   ("Can't open a connection to same database file with a different configuration").
   The session disposes every engine it created on exit.
4. The warehouse is opened read-only through a `creator` (a plain
   `duckdb.connect(path, read_only=True)`): duckdb-engine's own connect adds a
   `custom_user_agent` setting, and DuckDB refuses two connections to one file with
   different settings in a process, so a read-only connection someone else holds
   (a test fixture, the CLI) would make GX fail. Validation never writes the file.
5. Table assets don't work: SQLAlchemy 2.1 reflection on duckdb-engine fails, and GX's
   fallback drops the schema (`SELECT * FROM fct_answers`). Use query assets
   (`select * from core.fct_answers`): `add_query_asset` below.
6. GX's regex expectations don't run on DuckDB (no `REGEXP` operator for this
   dialect): write such rules as SQL with `UnexpectedRowsExpectation`.

great_expectations takes seconds to import: it is imported inside the functions, never at
module level.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DATASOURCE_NAME = "warehouse"


def connect_read_only(path: str) -> Any:
    """DB-API connection for SQLAlchemy: a read-only DuckDB connection, duckdb-engine wrapped."""
    import duckdb
    from duckdb_engine import ConnectionWrapper

    return ConnectionWrapper(duckdb.connect(path, read_only=True))


def ephemeral_context(project_config: Any = None) -> Any:
    """A GX context in memory, without usage statistics (no network) nor progress bars."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    if project_config is None:
        project_config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        )
    project_config.analytics_enabled = False
    project_config.progress_bars = ProgressBarsConfig(globally=False)
    return gx.get_context(mode="ephemeral", project_config=project_config)


@dataclass
class GxDuckDB:
    """A GX context whose SQL datasource reads one DuckDB file through one connection."""

    context: Any
    datasource: Any
    warehouse: Path
    schema_map: dict[str, str] = field(default_factory=dict)
    """logical schema -> the schema it is read from (PostgreSQL: marts -> marts_build,
    where the marts wait for their checks before publishing)"""
    _connection: Any = None
    _engines: list = field(default_factory=list)

    def physical(self, relation: str) -> str:
        """Where `relation` (`schema.table`, as the suites name it) is read from."""
        schema, _, table = relation.partition(".")
        return f"{self.schema_map.get(schema, schema)}.{table}"

    def relations(self) -> set[str]:
        """The relations that exist, under their logical names (a schema mapped away,
        e.g. the published marts on the server, is not the one validated)."""
        physical_to_logical = {v: k for k, v in self.schema_map.items()}
        found = set()
        for r in self.query("select table_schema, table_name from information_schema.tables"):
            schema = str(r["table_schema"])
            if schema in self.schema_map and schema not in physical_to_logical:
                continue
            found.add(f"{physical_to_logical.get(schema, schema)}.{r['table_name']}")
        return found

    @property
    def dialect(self) -> str:
        """The SQL dialect of the target (duckdb, postgresql)."""
        return str(self.datasource.get_execution_engine().engine.dialect.name)

    def add_query_asset(self, name: str, query: str) -> Any:
        """A data asset over `query` (use this instead of table assets, see the module doc)."""
        asset = self.datasource.add_query_asset(name=name, query=query)
        self.persist()
        return asset

    def persist(self) -> None:
        """Make the datasource's current execution engine use the session's one connection.

        Idempotent; call it before each validation (GX rebuilds the execution engine when
        the datasource's configuration changes).
        """
        engine = self.datasource.get_execution_engine()
        if getattr(engine, "_barometre_persisted", False):
            return
        if self._connection is None or self._connection.engine is not engine.engine:
            self._connection = engine.engine.connect()
            self._engines.append(engine.engine)
        connection = self._connection

        @contextlib.contextmanager
        def get_connection() -> Iterator[Any]:
            yield connection

        engine.get_connection = get_connection
        engine._barometre_persisted = True

    def run(self, runnable: Any, **kwargs: Any) -> Any:
        """Run a GX checkpoint or validation definition on the persisted connection."""
        self.persist()
        return runnable.run(**kwargs)

    def query(self, sql: str) -> list[dict[str, Any]]:
        """Rows of a small query (aggregates for reports) on the session's connection."""
        import sqlalchemy as sa

        self.persist()
        result = self._connection.execute(sa.text(sql))
        columns = list(result.keys())
        return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]

    def close(self) -> None:
        """Close the connection and dispose every engine, so DuckDB releases the file."""
        engines = list(self._engines)
        with contextlib.suppress(Exception):
            execution_engine = self.datasource._execution_engine
            if execution_engine is not None:
                engines.append(execution_engine.engine)
        with contextlib.suppress(Exception):
            if self.datasource._engine is not None:
                engines.append(self.datasource._engine)
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None
        for engine in engines:
            with contextlib.suppress(Exception):
                engine.dispose()
        self._engines.clear()


@contextlib.contextmanager
def sql_gx(
    connection_string: str,
    creator: Callable[[], Any],
    warehouse: Path,
    context: Any = None,
    schema_map: dict[str, str] | None = None,
) -> Iterator[GxDuckDB]:
    """The GX session every target opens (DuckDB: `duckdb_gx`; PostgreSQL:
    barometre.engines.postgres.gx): `context` (default: a new ephemeral one) with GX's SQL
    datasource on `connection_string`, its connections made by the target's `creator`
    (DuckDB read-only, see 4. above; PostgreSQL's password kept out of GX's
    configuration), one persisted connection for all its queries.

    On exit the connection is closed, every engine disposed and the datasource removed
    from `context`, so the context can open the next session.
    """
    if context is None:
        context = ephemeral_context()
    datasource = context.data_sources.add_sql(
        name=DATASOURCE_NAME,
        connection_string=connection_string,
        create_temp_table=False,
        kwargs={"creator": creator},
    )
    session = GxDuckDB(
        context=context,
        datasource=datasource,
        warehouse=warehouse,
        schema_map=dict(schema_map or {}),
    )
    try:
        session.persist()
        yield session
    finally:
        session.close()
        with contextlib.suppress(Exception):
            context.data_sources.delete(DATASOURCE_NAME)


@contextlib.contextmanager
def duckdb_gx(warehouse: Path, context: Any = None) -> Iterator[GxDuckDB]:
    """GX `context` (default: a new ephemeral one) with a read-only SQL datasource on `warehouse`.

    On exit the DuckDB connections are closed and the SQLAlchemy engines disposed, so
    `duckdb.connect(warehouse)` works again in this process.
    """
    warehouse = Path(warehouse).resolve()
    if not warehouse.is_file():
        raise FileNotFoundError(f"warehouse not found: {warehouse}")
    with sql_gx(
        f"duckdb:///{warehouse}",
        functools.partial(connect_read_only, str(warehouse)),
        warehouse,
        context,
    ) as session:
        yield session


@contextlib.contextmanager
def warehouse_gx(warehouse: Path, context: Any = None) -> Iterator[GxDuckDB]:
    """The GX session on the configured target: the DuckDB file `warehouse`, the
    PostgreSQL server (BAROMETRE_TARGET=postgres, barometre.engines.postgres.gx), or the
    Spark build's tables (BAROMETRE_TARGET=spark: a DuckDB file of views over their
    Parquet files, barometre.engines.spark.output, validated as the DuckDB file is)."""
    from barometre.common.settings import get_settings

    settings = get_settings()
    if settings.target == "spark":
        from barometre.engines.spark.pipeline import write_output

        with duckdb_gx(write_output(settings), context) as session:
            yield session
    elif settings.target == "postgres":
        from barometre.engines.postgres.gx import postgres_gx

        with postgres_gx(settings.pg_dsn, warehouse, context) as session:
            yield session
    else:
        with duckdb_gx(warehouse, context) as session:
            yield session


@dataclass
class ReadOnlyDuckDB:
    """The reading side of a `GxDuckDB` session (`query`, `relations`, `physical`) on a
    plain read-only DuckDB connection, without Great Expectations: what a validation
    reads before it knows whether a suite needs GX at all (validate.scope)."""

    connection: Any
    dialect: str = "duckdb"

    def physical(self, relation: str) -> str:
        return relation

    def query(self, sql: str) -> list[dict[str, Any]]:
        cursor = self.connection.execute(sql)
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

    def relations(self) -> set[str]:
        return {
            f"{r['table_schema']}.{r['table_name']}"
            for r in self.query("select table_schema, table_name from information_schema.tables")
        }


@contextlib.contextmanager
def read_only_duckdb(warehouse: Path) -> Iterator[ReadOnlyDuckDB]:
    """A `ReadOnlyDuckDB` on `warehouse` (same connection settings as GX's, see 4. above),
    closed on exit."""
    import duckdb

    connection = duckdb.connect(str(Path(warehouse).resolve()), read_only=True)
    try:
        yield ReadOnlyDuckDB(connection)
    finally:
        connection.close()
