"""The Data Docs site of the warehouse expectations: where GX stores results, one run at a time.

Results and suites are stored under `docs_dir/.gx/`; each run replaces the stored
result of the suites it runs and keeps the others, so the index shows the latest
result of every suite even when the Dagster checks run them one by one. A lock file
serialises runs writing the same folder. `offline.make_offline` then makes the pages
render without network.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

SITE_NAME = "barometre"
STORE_DIR = ".gx"  # inside docs_dir: results and suites the index is built from


def context_config(docs_dir: Path) -> Any:
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
    )

    defaults = InMemoryStoreBackendDefaults(init_temp_docs_sites=False)
    stores = dict(defaults.stores)
    store_root = docs_dir / STORE_DIR
    for store_name, folder in (
        (defaults.expectations_store_name, "expectations"),
        (defaults.validation_results_store_name, "validations"),
    ):
        stores[store_name] = {
            **stores[store_name],
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(store_root / folder),
            },
        }
    return DataContextConfig(
        store_backend_defaults=defaults,
        stores=stores,
        data_docs_sites={
            SITE_NAME: {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir),
                },
                "site_index_builder": {
                    "class_name": "DefaultSiteIndexBuilder",
                    "show_cta_footer": False,
                },
            }
        },
    )


def forget_previous_results(docs_dir: Path, suite_names: Iterable[str]) -> None:
    """Drop the stored results and pages of the suites about to run (keep the others)."""
    for name in suite_names:
        for folder in (
            docs_dir / STORE_DIR / "validations" / name,
            docs_dir / "validations" / name,
        ):
            shutil.rmtree(folder, ignore_errors=True)


def docs_page(context: Any, identifier: Any) -> Path | None:
    try:
        urls = context.get_docs_sites_urls(resource_identifier=identifier, site_names=[SITE_NAME])
    except Exception:
        return None
    for site in urls:
        url = site.get("site_url") or ""
        if url.startswith("file://"):
            return Path(url.removeprefix("file://"))
    return None


@contextlib.contextmanager
def docs_lock(docs_dir: Path) -> Iterator[None]:
    """One run at a time per docs folder (Dagster may run checks in parallel processes)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    lock_path = docs_dir / STORE_DIR / "lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
