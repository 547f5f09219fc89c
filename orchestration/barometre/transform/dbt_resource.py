"""The dbt resource: dagster-dbt's `DbtCliResource` without two costs this project does
not use (docs/performance.md, P1).

Before each `dbt build` dagster-dbt 0.29 (1) runs `dbt --version` to tell dbt Core from
the Fusion engine (a whole dbt start, which also asks PyPI for the latest release: slow
and network-dependent), and (2) builds a dbt Core adapter inside the Dagster process
(imports dbt's adapter, reads the profile and project) whose only use is to fetch row
counts or column metadata after each model (`.fetch_row_counts()`,
`.fetch_column_metadata()`), which our dbt assets never ask for. Here (1) reads the
version of the dbt-core package installed beside the dbt executable, when it is this
environment's, and (2) is skipped: the dbt invocation, its events and its asset checks
are the same.
"""

from __future__ import annotations

import sys
from functools import cached_property
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

from dagster_dbt import DbtCliResource
from packaging import version


class BarometreDbtCliResource(DbtCliResource):
    """`DbtCliResource` that neither starts dbt to read its version nor builds an adapter."""

    @cached_property
    def _cli_version(self) -> version.Version:
        executable = Path(self.dbt_executable)
        if executable.parent.resolve() == Path(sys.executable).parent.resolve():
            try:  # this environment's dbt: the dbt-core installed here
                return version.parse(package_version("dbt-core"))
            except PackageNotFoundError:
                pass
        return super()._cli_version  # another dbt: ask it, as dagster-dbt does

    def _initialize_dbt_core_adapter(self, args: Any) -> Any:
        return None  # only used to fetch row counts / column metadata: never asked here
