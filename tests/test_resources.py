"""WarehouseResource: typed optional config; unset fields come from the settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster import Definitions, asset

from barometre.common.resources import WarehouseResource
from barometre.common.settings import ENV_DATA_DIR, ENV_MAX_BAD_SHARE, ENV_WAREHOUSE


def test_unset_fields_follow_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_DATA_DIR, str(tmp_path / "raw"))
    monkeypatch.setenv(ENV_WAREHOUSE, str(tmp_path / "w.duckdb"))
    monkeypatch.setenv(ENV_MAX_BAD_SHARE, "0.2")
    resource = WarehouseResource()
    assert (resource.data_dir, resource.warehouse, resource.max_bad_share) == (None, None, None)
    assert resource.data_path() == tmp_path / "raw"
    assert resource.warehouse_path() == tmp_path / "w.duckdb"
    assert resource.bad_share_limit() == 0.2


def test_set_fields_override_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_MAX_BAD_SHARE, "0.2")
    resource = WarehouseResource(data_dir="/data", warehouse="/w.duckdb", max_bad_share=0.0)
    assert resource.data_path() == Path("/data") and resource.warehouse_path() == Path("/w.duckdb")
    assert resource.bad_share_limit() == 0.0  # zero is a value, not "unset"


@pytest.mark.parametrize("share", [-1.0, 1.5])
def test_a_share_outside_0_1_is_refused(share: float) -> None:
    with pytest.raises(Exception, match="max_bad_share"):
        WarehouseResource(max_bad_share=share)


def test_run_config_sets_the_fields(tmp_path: Path) -> None:
    seen: dict[str, object] = {}

    @asset
    def probe(warehouse: WarehouseResource) -> None:
        seen.update(data=warehouse.data_path(), share=warehouse.bad_share_limit())

    defs = Definitions(assets=[probe], resources={"warehouse": WarehouseResource()})
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        run_config={
            "resources": {
                "warehouse": {"config": {"data_dir": str(tmp_path), "max_bad_share": 0.3}}
            }
        }
    )
    assert result.success
    assert seen == {"data": tmp_path, "share": 0.3}
