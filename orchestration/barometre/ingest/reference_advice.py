"""What to add to the seeds when an export names a collectivity the reference does not
resolve, and which declared editions hold no data: advice printed by `validate`,
`status` and the run summary (the rules themselves live in the row contract and dbt)."""

from __future__ import annotations

import csv
import difflib
import io
from pathlib import Path

from barometre.ingest.reference import Collectivity, load_reference, seed_rows
from barometre.ingest.text import normalize_name

ALIASES = "seeds/collectivity_aliases.csv"


def _csv_line(*cells: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(cells)
    return buffer.getvalue()


def alias_advice(seeds_dir: Path, edition: str, names: list[str], max_candidates: int = 3) -> str:
    """For each unresolved or ambiguous exported name, the alias rows to choose from."""
    reference = load_reference(seeds_dir, edition)
    keys = list(reference.names)
    lines = []
    for name in sorted(set(names)):
        key = normalize_name(name)
        candidates = list(reference.names.get(key, ()))
        if not candidates:
            for close in difflib.get_close_matches(key, keys, n=max_candidates, cutoff=0.6):
                candidates += reference.names[close]
        first: dict[str, Collectivity] = {}  # one per SIREN, the first seen
        for c in candidates:
            first.setdefault(c.siren, c)
        unique = list(first.values())
        if unique:
            lines.append(f"  {name!r}: append to {ALIASES} the row of the right collectivity:")
            lines += [
                f"      {_csv_line(name, c.siren, '', f'name in the {edition} export')}"
                f"   ({c.name}, {c.type_code})"
                for c in unique[:max_candidates]
            ]
        else:
            lines.append(
                f"  {name!r}: no close name in seeds/collectivities.csv. Find its SIREN in the "
                f"official reference and append `{_csv_line(name, '<SIREN>', '', 'why')}` to "
                f"{ALIASES}; a collectivity outside the reference (not an EPCI, nor a commune "
                "of 20,000 inhabitants or more) needs a reference row first (seeds/README.md, "
                '"Collectivities").'
            )
    return "\n".join(lines)


def declared_editions(seeds_dir: Path) -> list[str]:
    return [r["edition_code"] for r in seed_rows(seeds_dir, "editions.csv")]


def not_loaded_warning(declared: list[str], loaded: list[str], where: str) -> str | None:
    """One warning for the editions of seeds/editions.csv that hold no data."""
    missing = [e for e in declared if e not in set(loaded)]
    if not missing:
        return None
    return (
        f"warning: edition(s) {', '.join(missing)} are declared in seeds/editions.csv but "
        f"{where}: they are left out of every mart until they are loaded."
    )
