"""The publication for BI from the command line: `barometre publish` and `barometre
export`, and what the other verbs say of it (where it is, what a failed run left).

Heavy libraries are imported inside the commands.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from barometre.common.console import describe_os_error
from barometre.common.console import fail as _fail
from barometre.common.console import say as _say
from barometre.common.settings import Settings, get_settings


def published_location(settings: Settings) -> str:
    """Where BI tools read the published marts."""
    if settings.target == "postgres":
        from barometre.engines.postgres.connection import connection_params, describe

        server = describe(connection_params(settings.pg_dsn))
        return f"schema marts on {server} (role bi_reader)"
    return str(settings.published_dir / "barometre.duckdb")


def unchanged_publication_note(settings: Settings) -> str:
    """One line for failed runs: the published data were not replaced."""
    if settings.target == "postgres":
        return (
            "The marts published for BI were NOT changed (schema marts on the server "
            "keeps the previous publication)."
        )
    from barometre.publish.publication import check_publication

    current, problem = check_publication(settings.published_dir)
    if problem:
        return f"The data published for BI were NOT changed by this run, and {problem}."
    if current is None:
        return "Nothing is published for BI yet (no run has succeeded)."
    return (
        f"The data published for BI were NOT changed: still version {current.version} "
        f"of {current.published_at} ({settings.published_dir / 'barometre.duckdb'})."
    )


def _server_published_lines(settings: Settings) -> list[str]:
    from barometre.engines.postgres.connection import ServerError
    from barometre.engines.postgres.publish import current_publication

    try:
        current = current_publication(settings.pg_dsn)
    except ServerError as err:
        return [f"Published for BI: unknown ({err})."]
    if current is None:
        return [f"Published for BI: nothing yet on {published_location(settings)}."]
    comment, counts = current
    lines = [f"Published for BI: {published_location(settings)}", f"  {comment}"]
    width = max((len(name) for name in counts), default=0)
    lines += [f"  {name:<{width}} {rows:>8} rows" for name, rows in sorted(counts.items())]
    return lines


def published_lines(settings: Settings) -> list[str]:
    if settings.target == "postgres":
        return _server_published_lines(settings)
    from barometre.publish.publication import check_publication

    current, problem = check_publication(settings.published_dir)
    if problem:
        return [f"Published for BI: DAMAGED: {problem}."]
    if current is None:
        return [
            f"Published for BI: nothing yet ({settings.published_dir}); "
            "`barometre run` publishes after a successful build."
        ]
    lines = [
        f"Published for BI: {current.path}",
        f"  version {current.version}, published {current.published_at}"
        + (f", run {current.run_id}" if current.run_id else ", by hand"),
        f"  Parquet: {settings.published_dir / 'current' / 'parquet'}",
    ]
    width = max((len(name) for name in current.marts), default=0)
    for name, rows in sorted(current.marts.items()):
        lines.append(f"  {name:<{width}} {rows:>8} rows")
    if not current.marts:
        lines.append("  (no mart in this version)")
    editions = sorted({s["edition"] for s in current.sources})
    if editions:
        lines.append(f"  built from editions {', '.join(editions)}")
    return lines


def cmd_publish(_args: argparse.Namespace) -> int:
    from barometre.common.writer_lock import WarehouseBusy, hold_working_warehouse
    from barometre.publish.publication import PublishError, publish

    settings = get_settings()
    if settings.target == "postgres":
        return _publish_on_server(settings)
    try:
        with hold_working_warehouse("barometre publish", on_wait=_say):
            source = settings.warehouse
            if settings.target == "spark":  # the Spark build's tables (engines/spark)
                from barometre.engines.spark.pipeline import publication_source

                source = publication_source(settings)
            version = publish(source, settings.published_dir, run_id=None, say=_say)
    except (PublishError, WarehouseBusy) as err:
        return _fail(str(err))
    _say(f"Published version {version.version}: {version.path}")
    return 0


def _publish_on_server(settings: Settings) -> int:
    """PostgreSQL target: swap the marts of the last build (schema marts_build) into marts."""
    from barometre.common.writer_lock import WarehouseBusy, hold_working_warehouse
    from barometre.engines.postgres.connection import ServerError
    from barometre.engines.postgres.publish import ServerPublishError, publish_marts

    try:
        with hold_working_warehouse("barometre publish", on_wait=_say):
            published = publish_marts(settings.pg_dsn)
    except (ServerError, ServerPublishError, WarehouseBusy) as err:
        return _fail(str(err))
    _say(f"Published {len(published.tables)} marts: schema marts on {published.server}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    import duckdb

    from barometre.publish.publication import REPAIR_HINT, check_publication
    from barometre.serve.export import export_marts

    settings = get_settings()
    formats = ("csv", "parquet") if args.format == "both" else (args.format,)
    out = Path(args.out).expanduser().resolve()
    published_db = settings.published_dir / "barometre.duckdb"
    scratch = None
    if settings.target == "postgres":
        # what the server publishes (schema marts and the public lookups), copied into
        # a private temporary DuckDB file laid out like the DuckDB publication
        import tempfile

        from barometre.engines.postgres.connection import ServerError
        from barometre.engines.postgres.snapshot import write_published_file

        scratch = tempfile.TemporaryDirectory(prefix="barometre-export-")
        published_db = Path(scratch.name) / "barometre.duckdb"
        try:
            if not write_published_file(settings.pg_dsn, published_db):
                scratch.cleanup()
                return _fail(
                    f"nothing exported: nothing is published on {published_location(settings)} "
                    "yet; run `barometre run --target postgres` first"
                )
        except ServerError as err:
            scratch.cleanup()
            return _fail(f"nothing exported: {err}")
    else:
        _current, problem = check_publication(settings.published_dir)
        if problem:
            return _fail(f"nothing exported: {problem}, then export again")
    try:
        files = export_marts(
            published_db,
            out,
            formats,
            decimal_comma=not args.decimal_point,
            say=_say,
        )
    except FileNotFoundError as err:
        return _fail(str(err))
    except OSError as err:
        return _fail(f"export stopped: {describe_os_error(err)}")
    except duckdb.Error as err:
        return _fail(
            f"export stopped: the published file cannot be read "
            f"({str(err).splitlines()[0]}); {REPAIR_HINT}"
        )
    finally:
        if scratch is not None:
            scratch.cleanup()
    _say(f"{len(files)} file(s) written under {out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `publish` and `export` to the `barometre` parser."""
    publish = sub.add_parser(
        "publish",
        help="publish the working warehouse's marts for BI (read-only DuckDB "
        "file + Parquet, replaced atomically); `run` does it after a successful build",
    )
    publish.set_defaults(func=cmd_publish)

    export = sub.add_parser(
        "export",
        help="write the published marts to CSV (Excel: `;`, UTF-8 BOM, decimal "
        "comma) and/or Parquet",
    )
    export.add_argument(
        "--out", default="barometre-export", help="output folder (default: ./barometre-export)"
    )
    export.add_argument("--format", choices=("csv", "parquet", "xlsx", "both"), default="both")
    export.add_argument(
        "--decimal-point",
        action="store_true",
        help="CSV numbers with a decimal point instead of a comma",
    )
    export.set_defaults(func=cmd_export)
