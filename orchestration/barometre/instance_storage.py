"""The event log storage of the local Dagster instance: Dagster's SQLite storage, with
its connections kept open.

Dagster's `SqliteEventLogStorage` opens a new SQLAlchemy engine and connection for every
event it stores, and closes it after one commit: each event then pays SQL compilation
(the engine's statement cache dies with it), an fsync of its commit and a WAL checkpoint
on close. A run of the bundled sample stores ~700 events (one "planned" event per asset
and asset check, one per dbt result), which took about 20–40 s on the development
machine (docs/performance.md, P1).

`KeptOpenSqliteEventLogStorage` is the same storage (same files, same schema, same
queries: the Dagster UI and daemon read it as before) except that it keeps one engine
per database file open (a few at most, least recently used closed first), with
`PRAGMA synchronous=NORMAL`, SQLite's recommended setting in WAL mode (which Dagster
already uses): a commit no longer waits for the disk; a power cut may lose the last
events, never corrupt the file. After storing an event it touches the run's database
file, so that a UI watching the run live (it watches that file) still sees it change,
as it did when each close checkpointed the WAL into it.

It also stores a batch of events (`store_event_batch`: Dagster sends the ~340 "planned"
events a run starts with as one batch when DAGSTER_EVENT_BATCH_SIZE is set, as
`barometre run` and `barometre ui` set it: barometre.serve.cli.instance.batch_events)
in one transaction per database file instead of one or two per event: the same rows
through the same statements, committed together.
A batch that fails is rolled back whole, and Dagster then stores its events one by one.

It remembers the schema it has seen: Dagster asks whether the asset-check table exists
before storing each asset check event (`supports_asset_checks`, ~600 per run of the
sample), and SQLite's storage answers with a new engine and connection each time
(~2-4 ms). A table or column once found stays (only a migration adds them, and `wipe`
forgets what was seen); one not found is asked again every time, as before.

DAGSTER_HOME/dagster.yaml selects it (barometre.serve.cli.instance.INSTANCE_CONFIG).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dagster import Field, StringSource
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool

OPEN_ENGINES = 8
"""Database files kept open at once (the index, the current run's, a few the UI reads)."""


def _synchronous_normal(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class KeptOpenSqliteEventLogStorage(SqliteEventLogStorage):
    """SqliteEventLogStorage with one kept-open engine per database file (see module)."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._batch = threading.local()  # shard → connection of the batch being stored
        self._tables_seen: set[str] = set()
        self._asset_key_cols_seen: set[str] = set()
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def config_type(cls) -> dict:
        return {"base_dir": Field(StringSource)}

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Any
    ) -> KeptOpenSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.pop(shard, None)
        if engine is None:
            engine = create_engine(
                self.conn_string_for_shard(shard),
                poolclass=QueuePool,
                pool_size=1,  # kept open; Dagster's schema checks open a second one briefly
                max_overflow=4,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
            event.listen(engine, "connect", _synchronous_normal)
        self._engines[shard] = engine  # most recently used last
        while len(self._engines) > OPEN_ENGINES:
            _shard, oldest = self._engines.popitem(last=False)
            oldest.dispose()
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        batch: dict[str, Connection] | None = getattr(self._batch, "connections", None)
        if batch is not None:  # storing a batch: one open transaction per file
            conn = batch.get(shard)
            if conn is None:
                with self._db_lock:
                    engine = self._engine(shard)
                    if shard not in self._initialized_dbs:
                        self._initdb(engine)
                        self._initialized_dbs.add(shard)
                    conn = engine.connect()
                conn.begin()
                batch[shard] = conn
            yield conn
            return
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def has_table(self, table_name: str) -> bool:
        if table_name in self._tables_seen:
            return True
        found = super().has_table(table_name)
        if found:
            self._tables_seen.add(table_name)
        return found

    def _has_asset_key_col_on_connection(self, conn: Connection, column_name: str) -> bool:
        if column_name in self._asset_key_cols_seen:
            return True
        found = super()._has_asset_key_col_on_connection(conn, column_name)
        if found:
            self._asset_key_cols_seen.add(column_name)
        return found

    def _forget_schema(self) -> None:
        self._tables_seen.clear()
        self._asset_key_cols_seen.clear()

    def store_event(self, event: Any) -> None:
        super().store_event(event)
        if event.run_id:  # what a live UI watches (see module docstring)
            with contextlib.suppress(OSError):
                os.utime(self.path_for_shard(event.run_id))

    def store_event_batch(self, events: Any) -> None:
        """Store `events` as `store_event` would, one transaction per database file."""
        if getattr(self._batch, "connections", None) is not None:  # nested: already batched
            for one in events:
                self.store_event(one)
            return
        connections: dict[str, Connection] = {}
        self._batch.connections = connections
        try:
            for one in events:
                SqliteEventLogStorage.store_event(self, one)
            for conn in connections.values():
                conn.commit()
        except BaseException:
            for conn in connections.values():
                conn.rollback()
            raise
        finally:
            self._batch.connections = None
            for conn in connections.values():
                conn.close()
        for run_id in {one.run_id for one in events if one.run_id}:
            with contextlib.suppress(OSError):
                os.utime(self.path_for_shard(run_id))

    def _close_engines(self) -> None:
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()

    def delete_events(self, run_id: str) -> None:
        self._close_engines()  # a deleted run's file must not stay open
        super().delete_events(run_id)

    def wipe(self) -> None:
        self._close_engines()
        self._forget_schema()
        super().wipe()

    def dispose(self) -> None:
        self._close_engines()
        super().dispose()
