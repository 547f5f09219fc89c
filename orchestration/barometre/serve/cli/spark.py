"""`barometre spark-build`: the warehouse's raw tables to Parquet, then dbt on Spark
(barometre.engines.spark)."""

from __future__ import annotations

import argparse
from pathlib import Path

from barometre.common.console import describe_os_error
from barometre.common.console import fail as _fail
from barometre.common.console import say as _say
from barometre.common.settings import get_settings


def _conf(pairs: list[str]) -> dict[str, str]:
    conf = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--conf {pair!r}: write KEY=VALUE, e.g. spark.master=local[2]")
        conf[key.strip()] = value.strip()
    return conf


def cmd_spark_build(args: argparse.Namespace) -> int:
    from barometre.engines.spark.build import build_on_spark
    from barometre.engines.spark.raw_parquet import export_raw_parquet
    from barometre.engines.spark.session import METASTORE, missing_requirements

    out = Path(args.out).resolve()
    try:
        conf = _conf(args.conf or [])
        problem = missing_requirements()
        if problem:  # before anything is written
            return _fail(problem)
        if args.raw:
            raw_dir = Path(args.raw).resolve()
        else:
            settings = get_settings()
            raw_dir = out / "raw-parquet"
            rows = export_raw_parquet(settings.warehouse, raw_dir)
            listed = ", ".join(f"{t} {n}" for t, n in rows.items())
            _say(f"raw tables of {settings.warehouse} written as Parquet to {raw_dir} ({listed})")
        full_refresh = bool(getattr(args, "full_refresh", False))
        if (out / METASTORE).is_dir() and not full_refresh:
            _say(
                f"incremental build: the Spark tables of the last build in {out} are kept "
                "(--full-refresh rebuilds everything)"
            )
        dbt_args = ["--exclude", *args.exclude] if args.exclude else []
        build = build_on_spark(
            raw_dir, out, conf=conf, dbt_args=dbt_args, full_refresh=full_refresh
        )
    except OSError as err:
        return _fail(describe_os_error(err))
    except (RuntimeError, ValueError) as err:
        return _fail(str(err))
    times = ", ".join(f"{step} {s:.1f} s" for step, s in build.seconds.items())
    if not build.success:
        detail = "\n".join(build.failures[:20])
        return _fail(
            f"dbt build on Spark failed ({times}):\n{detail}\n"
            f"(dbt's log: {out / 'dbt-logs' / 'dbt.log'})"
        )
    _say(f"dbt build on Spark passed ({times})")
    for name, files in build.marts().items():
        _say(f"  {name}: {files}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    spark = sub.add_parser(
        "spark-build",
        help="build the same dbt project on a local Spark session, from the raw tables "
        "as Parquet (optional extra `spark`; docs/scaling.md)",
    )
    spark.add_argument("out", help="work folder: raw Parquet, Spark tables, dbt artefacts")
    spark.add_argument(
        "--raw",
        help="folder of raw tables as Parquet (one sub-folder per table) instead of "
        "exporting the warehouse's raw schema",
    )
    spark.add_argument(
        "--conf",
        action="append",
        metavar="KEY=VALUE",
        help="a Spark setting, e.g. spark.master=local[2] (repeatable)",
    )
    spark.add_argument(
        "--exclude",
        nargs="+",
        metavar="SELECTOR",
        help="dbt selectors left out of the build (by default the whole project builds)",
    )
    spark.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild everything, incremental models included, in an empty Spark catalog "
        "(by default a build in a work folder of an earlier one is incremental)",
    )
    spark.set_defaults(func=cmd_spark_build)
