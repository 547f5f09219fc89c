"""Publish the BI-facing part of the working warehouse, atomically.

BI tools never open the working DuckDB file (a writer holds an exclusive lock on it
during runs, and it holds the raw and restricted data). They open a published copy:

    <published_dir>/
        barometre.duckdb  -> current/barometre.duckdb   (stable path for BI tools)
        published.json    -> current/published.json     (what is published, for humans)
        current           -> versions/<version>         (THE commit point)
        versions/<version>/
            barometre.duckdb          read-only; schemas marts, reference (lookups), meta
            published.json            version, time, run id, row counts, source hashes
            parquet/<mart>.parquet    every table of schema marts
            parquet/reference/<table>.parquet

A publication is built entirely in `versions/.tmp-<version>/`, checked, renamed to
`versions/<version>/`, then made current by replacing the `current` symlink with
`os.replace` (rename(2): atomic on POSIX). The DuckDB file, its Parquet files and
published.json therefore switch together, in one step: a reader sees the previous
complete publication or the new complete one, never a mix, and a failure (or a
SIGKILL) at any earlier point leaves the previous publication untouched.

A reader that already opened the previous file keeps reading it (it holds the old
inode, even after retention deletes its folder). The DuckDB file carries its own
version and row counts (tables `meta.publication` and `meta.tables`), so a reader
can check which complete state it sees from one connection.

Storage compatibility: duckdb 2.0 writes storage version "v2.0.0+" by default, which
DuckDB 1.4/1.5 clients (DBeaver, Evidence, the DuckDB CLI) refuse to open. The
published file is written through `ATTACH … (STORAGE_VERSION 'v1.4.0')`; we checked
with duckdb 2.0.1 that such a file has header storage number 67 (the number of
DuckDB 1.4; 2.0's own is 999) and that `duckdb_databases().tags` reports it as
`{'storage_version': 'v1.4.0+'}`. `publish()` verifies the header of every file it
publishes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import shutil
import stat
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from barometre.common.file_modes import PUBLIC_DIR, PUBLIC_FILE
from barometre.common.one_row import one_row
from barometre.ingest.personal import file_label

if TYPE_CHECKING:  # imported where used: the code location loads this module (issue 10 P4)
    import duckdb

PUBLISHED_DB = "barometre.duckdb"
PUBLISHED_JSON = "published.json"
CURRENT = "current"
VERSIONS = "versions"
PARQUET = "parquet"
LOCK_FILE = ".publish.lock"
TMP_PREFIX = ".tmp-"

STORAGE_VERSION = "v1.4.0"
"""Oldest DuckDB release that can open the published file (DuckDB 1.4+ clients)."""
STORAGE_VERSION_NUMBER = 67
"""Header storage number duckdb 2.0.1 writes for STORAGE_VERSION 'v1.4.0' (1.4's number)."""

KEEP_VERSIONS = 3
"""Publications kept on disk (the current one included); older ones are deleted."""

MARTS_SCHEMA = "marts"
REFERENCE_SCHEMA = "reference"
META_SCHEMA = "meta"
PUBLISHED_REFERENCE_TABLES = (
    "editions",
    "stages",
    "scale_levels",
    "themes",
    "transverse_themes",
    "questions",
    "question_transverse_themes",
    "question_crosswalk",
    "collectivity_types",
    "population_bands",
    "code_labels",
)
"""Seeds published as lookup tables: codes and labels only. Never `collectivities` or
`collectivity_aliases` (lists of the respondents), never schemas raw, staging,
intermediate, core or restricted."""


class PublishError(Exception):
    """Publishing failed; the previous publication (if any) is untouched."""


class PublicationDamaged(PublishError):
    """The published folder is damaged (one-line reason); the next publish repairs it."""


@dataclass(frozen=True)
class PublishedVersion:
    """One publication, as recorded in its published.json."""

    version: str
    published_at: str
    run_id: str | None
    published_dir: Path
    tables: dict[str, int]
    """"schema.table" → rows"""
    sources: list[dict[str, Any]] = field(default_factory=list)
    """raw.load_log of the working warehouse: edition, file, content_sha256, loaded_at"""
    storage_version: str = STORAGE_VERSION

    @property
    def path(self) -> Path:
        """The stable path BI tools open (a symlink to the current version's file)."""
        return self.published_dir / PUBLISHED_DB

    @property
    def directory(self) -> Path:
        return self.published_dir / VERSIONS / self.version

    @property
    def marts(self) -> dict[str, int]:
        prefix = f"{MARTS_SCHEMA}."
        return {k[len(prefix) :]: v for k, v in self.tables.items() if k.startswith(prefix)}

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "published_at": self.published_at,
            "run_id": self.run_id,
            "storage_version": self.storage_version,
            "duckdb_file": PUBLISHED_DB,
            "parquet_dir": PARQUET,
            "tables": self.tables,
            "sources": self.sources,
        }

    @classmethod
    def from_json(cls, published_dir: Path, data: dict[str, Any]) -> PublishedVersion:
        return cls(
            version=data["version"],
            published_at=data["published_at"],
            run_id=data.get("run_id"),
            published_dir=published_dir,
            tables={k: int(v) for k, v in data.get("tables", {}).items()},
            sources=list(data.get("sources", [])),
            storage_version=data.get("storage_version", STORAGE_VERSION),
        )


# --------------------------------------------------------------------------- reading


REPAIR_HINT = "the next `barometre publish` (or successful `barometre run`) repairs it"


def current_version(published_dir: Path) -> PublishedVersion | None:
    """The current publication, or None when nothing was ever published.

    Raises PublicationDamaged when there is a publication but it cannot be read: a
    dangling `current` link, a missing, truncated or corrupt published.json."""
    link = published_dir / CURRENT
    if not link.is_symlink() and not link.exists():
        return None
    where = published_dir / PUBLISHED_JSON
    try:
        target = link.resolve(strict=True)
        where = target / PUBLISHED_JSON
        data = json.loads(where.read_text(encoding="utf-8"))
        version = PublishedVersion.from_json(published_dir, data)
    except (FileNotFoundError, NotADirectoryError):
        raise PublicationDamaged(
            f"the published state is damaged: {link} points to "
            f"{os.readlink(link) if link.is_symlink() else 'no version'}, where "
            f"{where.name} is missing"
        ) from None
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise PublicationDamaged(
            f"the published state is damaged: {where} cannot be read "
            f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else 'empty'})"
        ) from None
    if version.directory.resolve() != target:
        raise PublicationDamaged(
            f"the published state is damaged: {where} says version {version.version}, "
            f"but {link} points to {target.name}"
        )
    return version


def check_publication(published_dir: Path) -> tuple[PublishedVersion | None, str | None]:
    """(current publication, None) when it is whole; (…, one-line problem) when damaged.

    Reads published.json, then opens the published DuckDB file as a BI tool would and
    checks that it is the version published.json names, with every recorded table."""
    import duckdb

    try:
        version = current_version(published_dir)
    except PublicationDamaged as err:
        return None, f"{err}; {REPAIR_HINT}"
    if version is None:
        return None, None
    db = published_dir / PUBLISHED_DB
    try:
        magic, _number = storage_header(db)
        if magic != b"DUCK":
            raise ValueError("not a DuckDB file")
        con = duckdb.connect(str(db), read_only=True)
        try:
            (seen,) = one_row(con.execute(f"SELECT version FROM {META_SCHEMA}.publication"))
            for key in version.tables:
                schema, table = key.split(".", 1)
                con.execute(f"SELECT count(*) FROM {_quote(schema)}.{_quote(table)}").fetchone()
        finally:
            con.close()
    except (OSError, ValueError, struct.error, duckdb.Error) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        return version, (
            f"the published state is damaged: {db} cannot be read ({reason}); {REPAIR_HINT}"
        )
    if seen != version.version:
        return version, (
            f"the published state is damaged: {db} holds version {seen}, "
            f"published.json says {version.version}; {REPAIR_HINT}"
        )
    return version, None


def storage_header(path: Path) -> tuple[bytes, int]:
    """(magic, storage number) of a DuckDB file header: 8-byte checksum, b'DUCK', uint64."""
    with path.open("rb") as handle:
        return struct.unpack("<8x4sQ", handle.read(20))


def connect_published(published_dir: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published file (what BI tools should do)."""
    import duckdb

    return duckdb.connect(str(published_dir / PUBLISHED_DB), read_only=True)


# --------------------------------------------------------------------------- helpers


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _new_version_id(versions: Path) -> str:
    """Sortable, timestamp-based id (UTC, microseconds); unique within the folder."""
    while True:
        version = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        if not (versions / version).exists() and not (versions / (TMP_PREFIX + version)).exists():
            return version
        time.sleep(0.000_01)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=2, default=str)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())


def _replace_symlink(link: Path, target: str) -> None:
    """Point `link` at `target` atomically (temp symlink + rename over the old one)."""
    tmp = link.with_name(f"{TMP_PREFIX}{link.name}-{os.getpid()}")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(target, tmp)
    os.replace(tmp, link)


@contextlib.contextmanager
def _publish_lock(published_dir: Path) -> Iterator[None]:
    """One publisher at a time (flock: released by the kernel even on SIGKILL)."""
    with (published_dir / LOCK_FILE).open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _attach_working(con: duckdb.DuckDBPyConnection, working: Path, lock_timeout: float) -> None:
    """Attach the working file read-only, waiting while a writer holds its lock."""
    import duckdb

    deadline = time.monotonic() + lock_timeout
    while True:
        try:
            con.execute(f"ATTACH {_sql_str(str(working))} AS src (READ_ONLY)")
            return
        except duckdb.IOException as err:
            if "lock" not in str(err).lower() or time.monotonic() >= deadline:
                raise PublishError(
                    f"cannot read the working warehouse {working}: another process is "
                    f"writing it ({str(err).splitlines()[0]}). Publish again when it is done."
                ) from None
            time.sleep(0.5)


def _tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str | None]]:
    """(schema, table, comment) of what gets published: every table or view of schema
    marts, and the allowed reference lookups."""
    allowed = ", ".join(_sql_str(t) for t in PUBLISHED_REFERENCE_TABLES)
    return con.execute(f"""
        SELECT schema_name, table_name, comment FROM duckdb_tables()
        WHERE database_name = 'src'
          AND (schema_name = '{MARTS_SCHEMA}'
               OR (schema_name = '{REFERENCE_SCHEMA}' AND table_name IN ({allowed})))
        UNION ALL
        SELECT schema_name, view_name, comment FROM duckdb_views()
        WHERE database_name = 'src' AND NOT internal AND schema_name = '{MARTS_SCHEMA}'
        ORDER BY 1, 2
    """).fetchall()


def _sources(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    (exists,) = one_row(
        con.execute("""SELECT count(*) FROM duckdb_tables() WHERE database_name = 'src'
                       AND schema_name = 'raw' AND table_name = 'load_log'""")
    )
    if not exists:
        return []
    # File names may name a person: published.json shows a neutral label (the file's
    # position by name within its edition, as the ingestion's Dagster metadata does).
    rows = con.execute("""
        SELECT edition_code,
               dense_rank() OVER (PARTITION BY edition_code ORDER BY source_file),
               content_sha256, CAST(loaded_at AS VARCHAR)
        FROM src.raw.load_log ORDER BY ALL""").fetchall()
    return [
        {"edition": e, "file": file_label(e, n), "content_sha256": h, "loaded_at": t}
        for e, n, h, t in rows
    ]


def _copy_comments(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, comment: str | None
) -> None:
    """Carry dbt's persisted descriptions (table and column comments), when there are any."""
    target = f"pub.{_quote(schema)}.{_quote(table)}"
    if comment:
        con.execute(f"COMMENT ON TABLE {target} IS {_sql_str(comment)}")
    for column, col_comment in con.execute(
        """
            SELECT column_name, comment FROM duckdb_columns()
            WHERE database_name = 'src' AND schema_name = ? AND table_name = ?
              AND comment IS NOT NULL AND comment <> ''""",
        [schema, table],
    ).fetchall():
        con.execute(f"COMMENT ON COLUMN {target}.{_quote(column)} IS {_sql_str(col_comment)}")


def _parquet_name(schema: str, table: str) -> str:
    return f"{table}.parquet" if schema == MARTS_SCHEMA else f"{schema}/{table}.parquet"


def _build(
    con: duckdb.DuckDBPyConnection,
    staging: Path,
    version: str,
    published_at: str,
    run_id: str | None,
    say: Callable[[str], None],
) -> dict[str, int]:
    """Copy the published tables into staging/barometre.duckdb and Parquet; row counts."""
    tables = _tables(con)
    con.execute(
        f"ATTACH {_sql_str(str(staging / PUBLISHED_DB))} AS pub "
        f"(STORAGE_VERSION '{STORAGE_VERSION}')"
    )
    for schema in (MARTS_SCHEMA, REFERENCE_SCHEMA, META_SCHEMA):
        con.execute(f"CREATE SCHEMA pub.{schema}")
    (staging / PARQUET / REFERENCE_SCHEMA).mkdir(parents=True)
    counts: dict[str, int] = {}
    for schema, table, comment in tables:
        name = f"{_quote(schema)}.{_quote(table)}"
        con.execute(f"CREATE TABLE pub.{name} AS SELECT * FROM src.{name}")
        _copy_comments(con, schema, table, comment)
        (rows,) = one_row(con.execute(f"SELECT count(*) FROM pub.{name}"))
        counts[f"{schema}.{table}"] = int(rows)
        parquet = staging / PARQUET / _parquet_name(schema, table)
        con.execute(
            f"COPY pub.{name} TO {_sql_str(str(parquet))} (FORMAT parquet, COMPRESSION zstd)"
        )
        say(f"[publish]   {schema}.{table}: {rows} rows")
    con.execute(f"""
        CREATE TABLE pub.{META_SCHEMA}.publication AS
        SELECT {_sql_str(version)} AS version,
               CAST({_sql_str(published_at)} AS TIMESTAMPTZ) AS published_at,
               {_sql_str(run_id) if run_id else "CAST(NULL AS VARCHAR)"} AS run_id,
               '{STORAGE_VERSION}' AS storage_version, version() AS written_by_duckdb""")
    con.execute(f"""CREATE TABLE pub.{META_SCHEMA}.tables (
        schema_name VARCHAR, table_name VARCHAR, row_count BIGINT, parquet_file VARCHAR)""")
    if counts:
        con.executemany(
            f"INSERT INTO pub.{META_SCHEMA}.tables VALUES (?, ?, ?, ?)",
            [
                (*key.split(".", 1), rows, f"{PARQUET}/{_parquet_name(*key.split('.', 1))}")
                for key, rows in counts.items()
            ],
        )
    con.execute("COMMENT ON TABLE pub.meta.publication IS 'Which publication this file is.'")
    con.execute("COMMENT ON TABLE pub.meta.tables IS 'Row count of every published table.'")
    con.execute("DETACH pub")  # checkpoints: no .wal left beside the file
    return counts


def _verify(staging: Path, version: str, counts: dict[str, int]) -> None:
    """Re-open the staged file as a reader would, before anyone can see it."""
    import duckdb

    db = staging / PUBLISHED_DB
    if (db.parent / (db.name + ".wal")).exists():
        raise PublishError(f"a write-ahead log was left beside {db}")
    magic, number = storage_header(db)
    if magic != b"DUCK" or number != STORAGE_VERSION_NUMBER:
        raise PublishError(
            f"{db} has storage number {number}, expected "
            f"{STORAGE_VERSION_NUMBER} ({STORAGE_VERSION}): DuckDB 1.4 "
            "clients could not open it"
        )
    con = duckdb.connect(str(db), read_only=True)
    try:
        (seen,) = one_row(con.execute(f"SELECT version FROM {META_SCHEMA}.publication"))
        recorded = {
            f"{s}.{t}": int(n)
            for s, t, n in con.execute(
                f"SELECT schema_name, table_name, row_count FROM {META_SCHEMA}.tables"
            ).fetchall()
        }
        actual = {}
        for key in counts:
            schema, table = key.split(".", 1)
            (actual[key],) = one_row(
                con.execute(f"SELECT count(*) FROM {_quote(schema)}.{_quote(table)}")
            )
    finally:
        con.close()
    if seen != version or recorded != counts or actual != counts:
        raise PublishError(f"the staged publication {staging} does not read back as written")


def _make_read_only(folder: Path) -> None:
    """Files 0444 and folders 0755, whatever the umask (barometre runs under 077)."""
    folder.chmod(PUBLIC_DIR)
    for path in folder.rglob("*"):
        if path.is_file():
            path.chmod(PUBLIC_FILE)
        elif path.is_dir():
            path.chmod(PUBLIC_DIR)


def _prune(published_dir: Path, current: str, keep: int, say: Callable[[str], None]) -> list[str]:
    """Delete unfinished builds and publications beyond the `keep` most recent.

    Runs under the publish lock, so a `.tmp-*` folder is a leftover of a killed publish;
    a complete folder newer than `current` was never made current (killed just before).
    """
    versions = published_dir / VERSIONS
    removed = []
    older = sorted(
        (
            p.name
            for p in versions.iterdir()
            if p.is_dir() and not p.name.startswith(TMP_PREFIX) and p.name < current
        ),
        reverse=True,
    )
    kept = {current, *older[: max(keep - 1, 0)]}
    for path in versions.iterdir():
        if path.name in kept:
            continue
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path.name)
        except OSError as err:  # never fail a publication over housekeeping
            say(f"[publish] could not delete {path}: {err}")
    for leftover in published_dir.glob(TMP_PREFIX + "*"):
        with contextlib.suppress(OSError):
            leftover.unlink()
    return removed


def _clear_non_link(path: Path) -> None:
    """A damaged publication may have a file or folder where a symlink belongs: rename(2)
    cannot replace a folder by a link, so it is removed first (it was unreadable)."""
    if path.is_symlink() or not path.exists():
        return
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()


def _clean_leftovers(published_dir: Path) -> None:
    versions = published_dir / VERSIONS
    for path in versions.glob(TMP_PREFIX + "*"):
        shutil.rmtree(path, ignore_errors=True)


# --------------------------------------------------------------------------- publishing


def publish(
    working: Path,
    published_dir: Path,
    *,
    run_id: str | None = None,
    keep: int = KEEP_VERSIONS,
    lock_timeout: float = 120.0,
    say: Callable[[str], None] | None = None,
) -> PublishedVersion:
    """Publish the marts (and reference lookups) of `working`; return the new version.

    Raises PublishError when anything fails, the previous publication left untouched.
    """
    import duckdb

    say = say or (lambda _message: None)
    working = Path(working).resolve()
    published_dir = Path(published_dir).resolve()
    if not working.is_file():
        raise PublishError(f"no working warehouse at {working}: run `barometre run` first")
    published_dir.mkdir(parents=True, exist_ok=True)
    versions = published_dir / VERSIONS
    versions.mkdir(exist_ok=True)
    for folder in (published_dir, versions):  # BI users list and read them
        if stat.S_IMODE(folder.stat().st_mode) != PUBLIC_DIR:
            with contextlib.suppress(PermissionError):
                folder.chmod(PUBLIC_DIR)

    with _publish_lock(published_dir):
        try:
            previous = current_version(published_dir)
            kept = (
                f"the previous publication (version {previous.version} of "
                f"{previous.published_at}) is unchanged"
                if previous
                else "nothing was published before"
            )
        except PublicationDamaged as damaged:  # repaired by this publish, when it succeeds
            say(f"[publish] {damaged}: this publication replaces it")
            previous, kept = None, f"{damaged} (still)"
        _clean_leftovers(published_dir)
        version = _new_version_id(versions)
        published_at = dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")
        staging = versions / (TMP_PREFIX + version)
        staging.mkdir()
        try:
            say(f"[publish] copying the marts of {working} (version {version})…")
            con = duckdb.connect()
            try:
                _attach_working(con, working, lock_timeout)
                sources = _sources(con)
                counts = _build(con, staging, version, published_at, run_id, say)
            finally:
                con.close()
            if not any(k.startswith(f"{MARTS_SCHEMA}.") for k in counts):
                say("[publish] warning: the working warehouse has no table in schema marts")
            _verify(staging, version, counts)
            published = PublishedVersion(
                version, published_at, run_id, published_dir, counts, sources
            )
            _write_json(staging / PUBLISHED_JSON, published.to_json())
            _make_read_only(staging)
            _fsync_dir(staging)
            os.rename(staging, versions / version)
            _fsync_dir(versions)
        except BaseException as err:
            shutil.rmtree(staging, ignore_errors=True)
            if isinstance(err, PublishError):
                raise PublishError(f"{err}; {kept}") from None
            if isinstance(err, OSError) and err.errno == errno.ENOSPC:
                raise PublishError(
                    f"publishing failed: disk full while writing {err.filename or staging} "
                    f"(free space on the disk of {published_dir}, then run `barometre "
                    f"publish` again); {kept}"
                ) from None
            if isinstance(err, Exception):
                raise PublishError(
                    f"publishing failed ({type(err).__name__}: {err}); {kept}"
                ) from err
            raise
        # The commit point: one rename switches the file, the Parquet files and the json.
        _clear_non_link(published_dir / CURRENT)
        _replace_symlink(published_dir / CURRENT, f"{VERSIONS}/{version}")
        for name in (PUBLISHED_DB, PUBLISHED_JSON):
            link = published_dir / name
            if not link.is_symlink() or os.readlink(link) != f"{CURRENT}/{name}":
                _clear_non_link(link)
                _replace_symlink(link, f"{CURRENT}/{name}")
        _fsync_dir(published_dir)
        say(f"[publish] version {version} published: {published.path}")
        _prune(published_dir, version, keep, say)
    return published
