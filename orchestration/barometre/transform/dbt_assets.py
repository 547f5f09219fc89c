"""The dbt project as Dagster assets; dbt tests become asset checks.

The manifest is prepared at install time by dagster-dbt (barometre.transform.dbt_project), never
when this code location loads outside `dagster dev`.
"""

import contextlib
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from dagster import AssetCheckSpec, AssetExecutionContext, AssetSpec, Config
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from barometre.common.idle_imports import now_idle
from barometre.common.settings import get_settings
from barometre.common.writer_lock import dagster_writer
from barometre.transform.dbt_project import dbt_project
from barometre.transform.dbt_resource import BarometreDbtCliResource
from barometre.transform.partial_parse import (
    cache_file,
    restore_partial_parse,
    save_partial_parse,
)
from barometre.transform.step_targets import prune_step_targets
from barometre.transform.warm_dbt import take

if not dbt_project.manifest_path.is_file():
    _target = get_settings().target
    raise FileNotFoundError(
        f"dbt manifest not found at {dbt_project.manifest_path}.\n"
        + (
            "  What to do: run `make setup` (or `barometre prepare`) to build it; it is built "
            "at install time, not when Dagster loads."
            if _target != "spark"
            else "  What to do: run `BAROMETRE_TARGET=spark barometre prepare` (the spark "
            "target has its own manifest, prepared with the optional extra `spark`: "
            "docs/scaling.md); it is built at install time, not when Dagster loads."
        )
    )


LAYER_GROUPS = {
    "staging": "staging",
    "intermediate": "intermediate",
    "core": "core",
    "marts": "marts",
}
"""Dagster asset group of a dbt model, by the folder of models/ it lives in."""


class BarometreTranslator(DagsterDbtTranslator):
    """dbt assets grouped by layer in the Dagster UI (staging, intermediate, core, marts,
    restricted, reference for the seeds) instead of one `default` group, and dbt tests
    shown as asset checks with a description a person can read."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props.get("resource_type") == "seed":
            return "reference"
        folders = list(dbt_resource_props.get("fqn", []))[1:-1]
        if folders[:2] == ["marts", "restricted"]:
            return "restricted"
        if folders and folders[0] in LAYER_GROUPS:
            return LAYER_GROUPS[folders[0]]
        return super().get_group_name(dbt_resource_props)

    def get_asset_check_spec(
        self,
        asset_spec: AssetSpec,
        manifest: Mapping[str, Any],
        unique_id: str,
        project: DbtProject | None,
    ) -> AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        return AssetCheckSpec(
            name=spec.name,
            asset=spec.asset_key,
            description=check_description(manifest["nodes"].get(unique_id, {})),
            additional_deps=spec.additional_deps,
            metadata=spec.metadata,
            blocking=spec.blocking,
        )


def check_description(test: Mapping[str, Any]) -> str | None:
    """The test's YAML description; else what it checks, from its name and arguments."""
    if test.get("description"):
        return str(test["description"])
    severity = str(test.get("config", {}).get("severity") or "error").lower()
    blocking = "blocking" if severity == "error" else "warning only"
    metadata = test.get("test_metadata") or {}
    if not metadata:  # a singular test: its SQL file says what it checks
        path = test.get("original_file_path") or test.get("path") or test.get("name")
        return f"dbt singular test {test.get('name')} ({path}; {blocking})."
    kwargs = {
        k: v for k, v in (metadata.get("kwargs") or {}).items() if k not in {"model", "column_name"}
    }
    arguments = kwargs.pop("arguments", None) or {}
    arguments = {**kwargs, **arguments} if isinstance(arguments, dict) else kwargs
    column = test.get("column_name") or (metadata.get("kwargs") or {}).get("column_name")
    what = f"dbt test {metadata.get('name')}"
    if column:
        what += f" on column {column}"
    if arguments:
        what += " (" + ", ".join(f"{k}={v}" for k, v in sorted(arguments.items())) + ")"
    return f"{what}; {blocking}."


# dbt tests (source tests included) are shown as asset checks on the assets they test.
translator = BarometreTranslator(
    settings=DagsterDbtTranslatorSettings(
        enable_asset_checks=True, enable_source_tests_as_checks=True
    )
)


def _target_path(context: AssetExecutionContext) -> Path:
    # Named as dagster-dbt names its own (op-runid7-unique): barometre.validate.dbt_failures finds
    # the target folders of a run by that pattern.
    name = f"{context.op_execution_context.op.name}-{context.run.run_id[:7]}-{uuid.uuid4().hex[:7]}"
    return Path(dbt_project.project_dir) / "target" / name


def partial_parse_cache(warehouse: Path, target: str = "duckdb") -> Path:
    """Where dbt's partial-parse state for this warehouse is kept between runs
    (barometre.transform.partial_parse.cache_file)."""
    return cache_file(Path(dbt_project.project_dir), warehouse, target)


DBT_OP_NAME = "barometre_dbt"
UNIQUE_ID = "dagster_dbt/unique_id"
"""Metadata key of the dbt node behind a dbt asset or check (set by dagster-dbt)."""
BUILD_ARGS = ["--exclude-resource-type", "unit_test"]
"""dbt unit tests check the SQL of the models on fixed inputs, not the data: they run in
the test suite and CI (`make test` builds the project with them), not in every run,
as dbt recommends for production builds. Data tests all run, as asset checks."""


class DbtBuildConfig(Config):
    """Run config of the dbt step (`barometre run --full-refresh` sets it)."""

    full_refresh: bool = False
    """Rebuild every edition of the incremental core models (macros/edition_incremental.sql),
    not only those whose load changed."""


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    name=DBT_OP_NAME,
    dagster_dbt_translator=translator,
)
def barometre_dbt(
    context: AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig
) -> Iterator[Any]:
    """Seeds, staging, intermediate, core and marts with all their tests: ONE `dbt build`.

    One invocation (one parse, one connection) instead of one per layer. The blocking
    guarantee comes from dbt itself: a failed test of severity error makes dbt skip
    every model downstream of the model it tests, so a core table that fails its tests
    never feeds a mart; the failed step then stops `published_warehouse`, as does any
    failed blocking asset check (Great Expectations) on a dbt asset.

    Core models incremental by edition rebuild only the editions whose load changed
    since the last build (docs/performance.md); `full_refresh` rebuilds them all. The
    seeds and what is built and tested from them alone are left out when nothing of them
    changed since a build where all of them passed (barometre.transform.unchanged_seeds;
    docs/dbt.md)."""
    target = _target_path(context)
    settings = get_settings()
    where = settings.spark_dir if settings.target == "spark" else settings.warehouse
    cache = partial_parse_cache(where, settings.target)
    # `barometre run`'s warm dbt process (barometre.transform.warm_dbt), if any: its parse
    # state is handed over to `cache`, and the build runs in it.
    taken = take(cache) if isinstance(dbt, BarometreDbtCliResource) else None
    started = False
    restore_partial_parse(cache, target)
    # dbt writes the working warehouse: hold its writer lock (barometre.common.writer_lock).
    with dagster_writer(context):
        args = ["build", *BUILD_ARGS, *(["--full-refresh"] if config.full_refresh else [])]
        seeds = _SeedSubgraph(context, settings, full_refresh=config.full_refresh)
        try:
            if settings.target == "spark":
                _prepare_spark(context, settings)
            if seeds.kept is not None:
                args += seeds.exclude_args()
            started = True
            if taken is not None and isinstance(dbt, BarometreDbtCliResource):
                invocation = dbt.cli(args, context=context, target_path=target, warm=taken[0])
            else:
                invocation = dbt.cli(args, context=context, target_path=target)
            # dbt builds in its own process from here: the kept seeds' ~120 events are
            # stored meanwhile (dbt's output waits in memory: DrainedPipe), not before it
            if seeds.kept is not None:
                yield from _while_dbt_runs(invocation, seeds.kept_events())
            now_idle()  # this process now only waits for dbt (common.idle_imports)
            yield from invocation.stream()
            seeds.after_build(target)
        except BaseException:
            seeds.state.forget()  # a failed build leaves no record: the next runs it all
            raise
        finally:
            if taken is not None:
                _report_warm(context, *taken, started=started, target=target)
            save_partial_parse(target, cache)
            prune_step_targets(target)  # the newest few builds' folders are kept


def _while_dbt_runs(invocation: Any, events: Iterator[Any]) -> Iterator[Any]:
    """`events`, yielded while dbt already builds; if anything stops them (an interrupt,
    an error), dbt is stopped as dagster-dbt stops it on an interrupt (SIGINT, then its
    wait), so that it never writes on once the step has let go of the writer lock."""
    import signal

    try:
        yield from events
    except BaseException:
        process = invocation.process
        with contextlib.suppress(Exception):
            process.send_signal(signal.SIGINT)
            process.wait(timeout=invocation.termination_timeout_seconds)
        if process.poll() is None:  # did not stop in time
            process.kill()
            process.wait()
        raise


def _report_warm(
    context: AssetExecutionContext, warm: Any, parsed: Any, started: bool, target: Path
) -> None:
    """Say what the step took from the run's warm dbt process (barometre.transform.
    warm_dbt), keep its parse's log beside the build's (`parse-dbt.log`: the parse
    events a `dbt build` writes first in its own `dbt.log`), and end that process: it
    serves one command."""
    took = (
        f"dbt imported and the project parsed in the background in {parsed.parse_seconds:.1f} s; "
        f"the step waited {parsed.waited:.1f} s for it"
    )
    outcome = (warm.outcome() if started else None) or "not asked"
    if outcome == "served":
        context.log.info(f"dbt: the build ran in this run's warm dbt process ({took})")
    else:
        why = outcome.removeprefix("refused").strip()
        context.log.info(
            f"dbt: this run's warm dbt process did not run the build ({why}); its parse "
            f"state was used ({took})"
        )
    warm.keep_parse_log(target / "parse-dbt.log")
    warm.close()


class _SeedSubgraph:
    """The seed-only subgraph of this build (barometre.transform.unchanged_seeds): left out
    of the dbt command when its recorded key stands, else built, and its key recorded
    when all of it passed."""

    def __init__(self, context: AssetExecutionContext, settings: Any, full_refresh: bool) -> None:
        from dagster_dbt.dbt_manifest import validate_manifest

        from barometre.transform import unchanged_seeds as seeds

        self.context = context
        self.settings = settings
        self.manifest = validate_manifest(dbt_project.manifest_path)
        self.ids = seeds.seed_only_nodes(self.manifest)
        self.state = seeds.SeedState.for_warehouse(
            Path(dbt_project.project_dir), settings.warehouse
        )
        # Not a subset (dagster-dbt's own test): dbt then selects `fqn:*`, which the
        # exclusion needs (it turns indirect test selection off).
        assets_def = context.assets_def
        self.whole = (
            assets_def.keys_by_output_name == assets_def.node_keys_by_output_name
            and assets_def.check_specs_by_output_name == assets_def.node_check_specs_by_output_name
        )
        self.kept = None
        if not full_refresh and settings.target == "duckdb" and self.whole:
            self.kept = self.state.stands(self._key())
        if self.kept is None:
            self.state.forget()  # built (or not asked for): the old record no longer holds

    def _key(self) -> str | None:
        from barometre.transform.unchanged_seeds import current_key

        try:
            return current_key(
                self.manifest,
                self.ids,
                Path(dbt_project.project_dir),
                self.settings.warehouse,
                self.settings.target,
                BUILD_ARGS,
            )
        except Exception as err:  # any doubt builds the subgraph; never fails the step
            self.context.log.info(f"dbt seeds: their key could not be computed ({err})")
            return None

    def exclude_args(self) -> list[str]:
        from barometre.transform.unchanged_seeds import exclude_args

        assert self.kept is not None
        self.context.log.info(
            f"dbt seeds unchanged: {len(self.ids)} nodes (seeds, the models built from "
            "them alone and their tests) left out of this build; unchanged since run "
            f"{self.kept.run_id}, where all of them passed (`barometre run --full-refresh` "
            "builds them anyway)."
        )
        return exclude_args(self.manifest, self.ids)

    def kept_events(self) -> Iterator[Any]:
        """The left-out assets and checks reported as kept (their results of run
        `kept.run_id` stand), as the GX checks report theirs: otherwise Dagster would
        skip every step downstream of an asset the step did not yield (the
        publication)."""
        from dagster import AssetCheckResult, Output

        from barometre.transform.unchanged_seeds import in_build_order

        assert self.kept is not None
        order = {uid: n for n, uid in enumerate(in_build_order(self.manifest, self.ids))}
        note = (
            f"not rebuilt: unchanged since run {self.kept.run_id} "
            "(barometre.transform.unchanged_seeds)"
        )
        assets_def = self.context.assets_def
        specs = [s for s in assets_def.specs if s.metadata.get(UNIQUE_ID) in order]
        for spec in sorted(specs, key=lambda s: order[s.metadata[UNIQUE_ID]]):
            yield Output(
                None,
                output_name=assets_def.get_output_name_for_asset_key(spec.key),
                metadata={"dbt": note, "kept_from_run": self.kept.run_id},
            )
        for check in assets_def.check_specs:
            if check.metadata.get(UNIQUE_ID) in order:
                yield AssetCheckResult(
                    asset_key=check.asset_key,
                    check_name=check.name,
                    passed=True,
                    description=f"Passed in run {self.kept.run_id}; {note}.",
                    metadata={"kept_from_run": self.kept.run_id},
                )

    def after_build(self, target: Path) -> None:
        """After a build that succeeded: record the key when every node of the subgraph
        ran and passed in it."""
        import json

        from barometre.transform.unchanged_seeds import subgraph_passed

        if self.kept is not None:
            return  # left out: the record of the run that built it stands
        if self.settings.target != "duckdb" or not self.whole:
            return
        try:
            results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if not subgraph_passed(results, self.ids):
            return
        key = self._key()
        if key is not None:
            self.state.record(key, self.context.run.run_id, len(self.ids))


def _prepare_spark(context: AssetExecutionContext, settings: Any) -> None:
    """Spark target: the raw Parquet export brought up to date with the warehouse (the
    child dbt process registers it in the catalog when it starts)."""
    from dagster import Failure

    from barometre.engines.spark.pipeline import export_raw_if_stale
    from barometre.engines.spark.session import missing_requirements

    problem = missing_requirements()
    if problem:
        raise Failure(description=problem, allow_retries=False)
    try:
        written = export_raw_if_stale(settings)
    except (OSError, ValueError) as err:
        raise Failure(
            description=f"the raw tables could not be exported as Parquet for Spark: {err}",
            allow_retries=False,
        ) from None
    if written is not None:
        context.log.info(f"raw tables exported as Parquet for Spark: {written}")


DBT_ASSETS = [barometre_dbt]
DBT_ASSET_KEYS = sorted({k for a in DBT_ASSETS for k in a.keys}, key=lambda k: k.to_user_string())
