"""Every limit of limits.py is documented in docs/validation.md with its default."""

from __future__ import annotations

from barometre.common.settings import PROJECT_ROOT
from barometre.ingest import limits


def test_every_limit_is_in_the_validation_docs() -> None:
    docs = (PROJECT_ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    missing = [limit.env for limit in limits.ALL_LIMITS if f"`{limit.env}`" not in docs]
    assert missing == []
