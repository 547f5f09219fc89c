"""Dagster resources: the warehouse location, read from the same settings as the CLI and dbt."""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field

from barometre.common.settings import get_settings


class WarehouseResource(ConfigurableResource):
    """Where the raw exports are and which DuckDB file to write.

    Every field is optional: left unset (None), it comes from the settings
    (barometre.common.settings, the one reader of BAROMETRE_DATA_DIR, BAROMETRE_WAREHOUSE and
    BAROMETRE_MAX_BAD_SHARE, with their defaults), as for the CLI and dbt. Set, it
    overrides them for this Definitions (tests, a run's resource config).
    """

    data_dir: str | None = Field(
        default=None, description="folder of the edition folders (default BAROMETRE_DATA_DIR)"
    )
    warehouse: str | None = Field(
        default=None, description="the working DuckDB file (default BAROMETRE_WAREHOUSE)"
    )
    max_bad_share: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="share of rows allowed to break the row contract "
        "(default BAROMETRE_MAX_BAD_SHARE)",
    )

    def data_path(self) -> Path:
        return Path(self.data_dir) if self.data_dir is not None else get_settings().data_dir

    def warehouse_path(self) -> Path:
        return Path(self.warehouse) if self.warehouse is not None else get_settings().warehouse

    def bad_share_limit(self) -> float:
        if self.max_bad_share is not None:
            return self.max_bad_share
        return get_settings().max_bad_share

    def seeds_path(self) -> Path:
        return get_settings().seeds_dir
