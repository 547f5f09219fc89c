"""What the suites are built from, read from the warehouse: the editions and the columns.

`read_facts` reads `reference.editions` (scale size, edition order) and the columns of
the suites' relations, so the suites name no edition and follow the marts' columns;
`read_profile` reads the respondents per edition and type reported with the results.
`session` is a `gx_duckdb` session (its `query` runs SQL in DuckDB, read-only).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class EditionScale:
    """One edition of `reference.editions`: code and scale size, in edition order."""

    edition_code: str
    scale_size: int


@dataclass(frozen=True)
class WarehouseFacts:
    """What the suites are built from: the editions and the columns of each relation."""

    editions: tuple[EditionScale, ...]
    columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def max_scale_size(self) -> int:
        return max((e.scale_size for e in self.editions), default=0)

    def columns_like(self, relation: str, prefix: str) -> tuple[str, ...]:
        return tuple(c for c in self.columns.get(relation, ()) if c.startswith(prefix))


def read_facts(session: Any, relations: Iterable[str]) -> tuple[WarehouseFacts, set[str]]:
    """Editions (reference.editions) and columns of `relations`; plus the relations that exist."""
    existing = session.relations()
    editions: tuple[EditionScale, ...] = ()
    if "reference.editions" in existing:
        editions = tuple(
            EditionScale(str(r["edition_code"]), int(r["scale_size"]))
            for r in session.query(
                "select edition_code, scale_size from reference.editions "
                "order by edition_year, edition_number, edition_code"
            )
        )
    wanted = sorted(set(relations) & existing)
    columns: dict[str, tuple[str, ...]] = {}
    if wanted:
        logical = {session.physical(r): r for r in wanted}
        in_list = ", ".join("'" + r.replace("'", "''") + "'" for r in logical)
        for r in session.query(
            "select table_schema || '.' || table_name as relation, column_name "
            "from information_schema.columns "
            f"where table_schema || '.' || table_name in ({in_list}) "
            "order by relation, ordinal_position"
        ):
            relation = logical[r["relation"]]
            columns.setdefault(relation, ())
            columns[relation] += (r["column_name"],)
    return WarehouseFacts(editions=editions, columns=columns), existing


def read_profile(session: Any, existing: set[str]) -> dict[str, Any]:
    """Respondents per edition and type (reported with the results, not an expectation)."""
    if not {"core.fct_answers", "raw.responses"} <= existing:
        return {}
    rows = session.query(
        """select responses.edition_code, responses.type_code,
                  count(distinct answers.respondent_id) as n_respondents
           from (select distinct edition_code, respondent_id from core.fct_answers) as answers
           join raw.responses as responses
             on responses.edition_code = answers.edition_code
            and responses.respondent_id = answers.respondent_id
           group by responses.edition_code, responses.type_code
           order by responses.edition_code, responses.type_code"""
    )
    per_edition: dict[str, dict[str, int]] = {}
    for r in rows:
        per_edition.setdefault(str(r["edition_code"]), {})[str(r["type_code"])] = int(
            r["n_respondents"]
        )
    return {"respondents_per_edition_and_type": per_edition}
