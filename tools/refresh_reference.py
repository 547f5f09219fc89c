"""Rebuild seeds/collectivities.csv from the official reference (a dev tool, not runtime code).

Source: the npm package `@etalab/decoupage-administratif` (Etalab — découpage
administratif; data from INSEE's Code officiel géographique, DGCL and INSEE legal
populations; Licence Ouverte / Open Licence 2.0). The package is fetched with
`npm pack` (npm must be installed) into a temporary folder and read from there:

    .venv/bin/python tools/refresh_reference.py                # version pinned below
    .venv/bin/python tools/refresh_reference.py --version 6.1.0 --population-year 2024

What is kept (the barometer's admission rule, seeds/README.md "Collectivities"):
- every EPCI à fiscalité propre: métropoles (METRO), Métropole de Lyon (MET69),
  communautés urbaines (CU), d'agglomération (CA) and de communes (CC);
- every current commune of 20,000 inhabitants or more (COM), as in the published
  barometer ("grandes villes"); communes without a SIREN (some overseas communes) are
  left out, SIREN being the respondent key.

Changing the package version changes populations, hence population bands and the
marts: regenerate tests/fingerprints/sample_marts.json as its test says and explain it.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "@etalab/decoupage-administratif"
VERSION = "6.0.0"
# Legal populations shipped by 6.0.0 (geography of 2026): those in force on 1 January
# 2026, i.e. INSEE's "millésime 2023"; Mayotte (976) keeps INSEE's 2017 census figures.
POPULATION_YEAR = 2023
POPULATION_YEAR_BY_DEPARTEMENT = {"976": 2017}
MIN_COMMUNE_POPULATION = 20_000
EPCI_TYPES = ("METRO", "MET69", "CU", "CA", "CC")
COLUMNS = (
    "siren",
    "insee_code",
    "name",
    "type_code",
    "population",
    "population_year",
    "region_code",
    "region_name",
)
SEEDS = Path(__file__).resolve().parents[1] / "seeds"


def fetch(version: str, workdir: Path) -> Path:
    """`npm pack` the package into `workdir`, unpack it; the folder holding its data/."""
    subprocess.run(
        ["npm", "pack", f"{PACKAGE}@{version}", "--silent", "--pack-destination", str(workdir)],
        check=True,
        capture_output=True,
    )
    (tarball,) = workdir.glob("*.tgz")
    with tarfile.open(tarball) as archive:
        archive.extractall(workdir, filter="data")
    return workdir / "package"


def build_rows(package: Path, population_year: int) -> list[dict[str, object]]:
    data = package / "data"
    communes = [
        c
        for c in json.loads((data / "communes.json").read_text(encoding="utf-8"))
        if c["type"] == "commune-actuelle"
    ]
    regions = {r["code"]: r["nom"] for r in json.loads((data / "regions.json").read_text("utf-8"))}
    by_insee = {c["code"]: c for c in communes}

    def year(departements: set[str]) -> int:
        years = {POPULATION_YEAR_BY_DEPARTEMENT.get(d, population_year) for d in departements}
        return min(years)  # an EPCI straddling vintages gets the older one

    rows: list[dict[str, object]] = []
    for epci in json.loads((data / "epci.json").read_text(encoding="utf-8")):
        if epci["type"] not in EPCI_TYPES:
            continue
        members = [by_insee[m["code"]] for m in epci["membres"] if m["code"] in by_insee]
        largest = max(members, key=lambda c: (c.get("population") or 0, c["code"]))
        rows.append(
            {
                "siren": epci["code"],
                "insee_code": "",
                "name": epci["nom"],
                "type_code": epci["type"],
                "population": epci["populationTotale"],
                "population_year": year({c["departement"] for c in members}),
                "region_code": largest["region"],
                "region_name": regions[largest["region"]],
            }
        )
    for commune in communes:
        if (commune.get("population") or 0) < MIN_COMMUNE_POPULATION or not commune.get("siren"):
            continue
        rows.append(
            {
                "siren": commune["siren"],
                "insee_code": commune["code"],
                "name": commune["nom"],
                "type_code": "COM",
                "population": commune["population"],
                "population_year": year({commune["departement"]}),
                "region_code": commune["region"],
                "region_name": regions[commune["region"]],
            }
        )
    return sorted(rows, key=lambda r: str(r["siren"]))


def write(rows: list[dict[str, object]], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default=VERSION, help=f"package version (default {VERSION})")
    parser.add_argument(
        "--population-year",
        type=int,
        default=POPULATION_YEAR,
        help=f"vintage of the package's legal populations (default {POPULATION_YEAR})",
    )
    parser.add_argument("--package-dir", type=Path, help="an unpacked package (skips npm pack)")
    parser.add_argument("--out", type=Path, default=SEEDS / "collectivities.csv")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        package = args.package_dir or fetch(args.version, Path(tmp))
        rows = build_rows(package, args.population_year)
        write(rows, args.out)
    counts: dict[str, int] = {}
    for r in rows:
        counts[str(r["type_code"])] = counts.get(str(r["type_code"]), 0) + 1
    print(
        f"{args.out}: {len(rows)} rows " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
