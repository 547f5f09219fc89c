"""Dagster resources: the warehouse location, read from the same settings as the CLI and dbt."""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource

from barometre.settings import get_settings


class WarehouseResource(ConfigurableResource):
    """Where the raw exports are and which DuckDB file to write.

    Empty fields fall back to the settings (BAROMETRE_DATA_DIR, BAROMETRE_WAREHOUSE).
    """

    data_dir: str = ""
    warehouse: str = ""
    max_bad_share: float = -1.0
    """share of rows allowed to break the row contract; negative = BAROMETRE_MAX_BAD_SHARE"""

    def data_path(self) -> Path:
        return Path(self.data_dir) if self.data_dir else get_settings().data_dir

    def warehouse_path(self) -> Path:
        return Path(self.warehouse) if self.warehouse else get_settings().warehouse

    def bad_share_limit(self) -> float:
        return self.max_bad_share if self.max_bad_share >= 0 else get_settings().max_bad_share

    def seeds_path(self) -> Path:
        return get_settings().seeds_dir
