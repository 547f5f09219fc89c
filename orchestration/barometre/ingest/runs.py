"""The `ingest_edition` job, the tags its runs carry, and what past runs loaded.

A run's tags remember the content it loaded (`CONTENT_TAG`: the folder's fingerprint,
`SEEDS_TAG`: the seeds'), so the sensor and `barometre run` load again only what changed.
"""

from collections.abc import Iterable
from typing import Any

from dagster import AssetSelection, DagsterRunStatus, RunRequest, RunsFilter, define_asset_job

from barometre.common.writer_lock import WRITER_TAGS
from barometre.ingest.assets import edition_partitions, raw_edition
from barometre.ingest.fingerprint import EditionState

INGEST_JOB = "ingest_edition"

CONTENT_TAG = "barometre/content_sha256"
"""Tag of an ingestion run: the fingerprint (edition_state) of the folder it loaded."""

SEEDS_TAG = "barometre/seeds_sha256"
"""Tag of an ingestion run (started by `barometre run`, the sensor or the schedule): the
fingerprint of the seeds (reference tables) the ingestion resolved names and answers
with, taken when the run was requested."""

ingest_edition_job = define_asset_job(
    INGEST_JOB,
    # The raw tables with their own checks only: the dbt source tests on them (asset
    # checks of the dbt assets) run once in the `transform` build, not in a dbt
    # invocation of their own after each edition.
    selection=AssetSelection.assets(raw_edition).without_checks()
    | AssetSelection.checks(raw_edition),
    description="Load one edition's exports into schema raw (partition = edition).",
    run_tags=WRITER_TAGS,
)


def _last_ingestion_tags(instance: Any, edition: str) -> dict[str, str]:
    runs = instance.get_runs(
        RunsFilter(
            job_name=INGEST_JOB,
            statuses=[DagsterRunStatus.SUCCESS],
            tags={"dagster/partition": edition},
        ),
        limit=1,
    )
    return dict(runs[0].tags) if runs else {}


def unchanged_since_last_load(
    instance: Any,
    state: EditionState,
    seeds_sha256: str,
    loaded: Iterable[tuple[str, str, str]] | None,
) -> bool:
    """Whether loading the edition again would write what the warehouse holds already:
    its last successful ingestion loaded this very folder content (manifest and files)
    with these seeds, and raw.load_log still records those files (`loaded`: rows
    (file, sha256, loaded_at) of barometre.serve.status.edition_loads; a warehouse replaced or
    restored since then shows other files or none)."""
    if state.fingerprint is None or not loaded:
        return False
    tags = _last_ingestion_tags(instance, state.edition)
    if tags.get(CONTENT_TAG) != state.fingerprint or tags.get(SEEDS_TAG) != seeds_sha256:
        return False
    return tuple(sorted((name, sha) for name, sha, _when in loaded)) == state.files


def last_ingested(instance: Any, editions: Iterable[str]) -> dict[str, str]:
    """Fingerprint loaded by the last successful ingestion of each edition, from run tags
    (sensor, schedule and `barometre run` all set it)."""
    found: dict[str, str] = {}
    for edition in editions:
        runs = instance.get_runs(
            RunsFilter(
                job_name=INGEST_JOB,
                statuses=[DagsterRunStatus.SUCCESS],
                tags={"dagster/partition": edition},
            ),
            limit=1,
        )
        if runs and runs[0].tags.get(CONTENT_TAG):
            found[edition] = runs[0].tags[CONTENT_TAG]
    return found


def ingest_request(
    edition: str, fingerprint: str | None, reason: str, seeds_sha256: str
) -> RunRequest:
    """A run of `ingest_edition` for one edition, tagged with what started it and with
    the content and seeds it will load (so `barometre run` can skip it afterwards)."""
    tags = {**WRITER_TAGS, "barometre/trigger": reason, SEEDS_TAG: seeds_sha256}
    if fingerprint:
        tags[CONTENT_TAG] = fingerprint
    return RunRequest(job_name=INGEST_JOB, partition_key=edition, tags=tags)


def known_partitions(instance: Any) -> set[str]:
    """The editions the Dagster instance knows as partitions."""
    return set(instance.get_dynamic_partitions(edition_partitions.name))
