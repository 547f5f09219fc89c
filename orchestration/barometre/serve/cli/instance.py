"""The Dagster instance the CLI runs in: DAGSTER_HOME and its dagster.yaml.

`ensure_instance_config` writes DAGSTER_HOME/dagster.yaml (one run at a time; the event
log storage of barometre.instance_storage) for `barometre run` and `barometre ui`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from barometre.common.file_modes import open_private, private_dir
from barometre.common.settings import Settings

PREVIOUS_INSTANCE_CONFIG = """\
# Dagster instance of the barometre warehouse (written by `barometre`, edit freely).
# DuckDB allows one writer at a time: runs are queued and started one by one
# (docs/operations.md, "One writer at a time").
concurrency:
  runs:
    max_concurrent_runs: 1
telemetry:
  enabled: false
"""
"""What earlier versions wrote: a file still holding exactly this is brought up to date."""


INSTANCE_CONFIG = (
    PREVIOUS_INSTANCE_CONFIG
    + """\
# Dagster's SQLite event log, with its connections kept open: a run stores its ~700
# events several times faster (barometre.instance_storage; docs/performance.md, P1).
event_log_storage:
  module: barometre.instance_storage
  class: KeptOpenSqliteEventLogStorage
  config:
    base_dir: {event_log_dir}
"""
)


ENV_EVENT_BATCH_SIZE = "DAGSTER_EVENT_BATCH_SIZE"
EVENT_BATCH_SIZE = "1000"
"""Dagster then hands the planned events a run starts with (one per asset and asset
check, ~340 for a transform run) to the event log storage together, which stores them in
one transaction (barometre.instance_storage)."""


def batch_events() -> None:
    """Have Dagster store a run's planned events as one batch (unless set otherwise)."""
    os.environ.setdefault(ENV_EVENT_BATCH_SIZE, EVENT_BATCH_SIZE)


def ensure_instance_config(dagster_home: Path) -> Path:
    """Create DAGSTER_HOME (owner-only: run logs and event history) and its dagster.yaml
    (never overwrites one edited by hand; one exactly as an earlier version wrote it gets
    the event log storage of barometre.instance_storage)."""
    private_dir(dagster_home)
    config = dagster_home / "dagster.yaml"
    if not config.exists() or config.read_text(encoding="utf-8") == PREVIOUS_INSTANCE_CONFIG:
        # the folder Dagster's default SQLite storage uses: runs stored before stay visible
        event_log_dir = json.dumps(str(dagster_home.resolve() / "history" / "runs"))
        with open_private(config, "w") as handle:
            handle.write(INSTANCE_CONFIG.format(event_log_dir=event_log_dir))
    return config


def prepare_instance(settings: Settings):  # -> DagsterInstance (imported lazily)
    """The Dagster instance of DAGSTER_HOME, its folder and dagster.yaml made first."""
    ensure_instance_config(settings.dagster_home)
    batch_events()
    from dagster import DagsterInstance

    return DagsterInstance.get()
