"""`barometre prepare`: the dbt manifest, made by dagster-dbt's own preparation."""

from __future__ import annotations

import argparse

from barometre.common.console import fail as _fail
from barometre.common.console import say as _say
from barometre.common.settings import Settings, export_environment, get_settings


def prepare_dbt_project(settings: Settings) -> int:
    """Make the dbt manifest with dagster-dbt's own preparation (as `dagster-dbt project
    prepare-and-package` does): install time, never when the code location loads. The
    configured target's (BAROMETRE_TARGET): Spark's goes to target/spark/."""
    if settings.target == "spark":  # dbt-spark parses the project for Spark
        from barometre.engines.spark.session import missing_requirements

        problem = missing_requirements()
        if problem:
            return _fail(f"cannot prepare the dbt manifest for Spark: {problem}")
    export_environment(settings)
    from dagster_dbt.errors import DagsterDbtError

    from barometre.transform.dbt_project import dbt_project

    try:
        dbt_project.preparer.prepare(dbt_project)
    except DagsterDbtError as err:
        first = str(err).strip().splitlines()[:1]
        return _fail(
            f"dbt could not parse the project ({first[0] if first else type(err).__name__}; "
            "dbt's messages are above): fix it, then run `barometre prepare` again"
        )
    return 0


def cmd_prepare(_args: argparse.Namespace) -> int:
    settings = get_settings()
    if prepare_dbt_project(settings) != 0:
        return 1
    _say(f"dbt manifest ready ({settings.target} target): {settings.dbt_manifest}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `prepare` to the `barometre` parser."""
    prepare = sub.add_parser(
        "prepare", help="prepare the dbt manifest with dagster-dbt (done by `make setup`)"
    )
    prepare.set_defaults(func=cmd_prepare)
