"""Ingestion of both export layouts into schema raw, on small hand-built editions."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from barometre.ingest.columns import plan_columns
from barometre.ingest.errors import IngestError
from barometre.ingest.load import load_edition
from barometre.ingest.manifest import load_manifest
from barometre.ingest.reference import load_reference
from barometre.ingest.text import normalize_name, normalize_text
from tests.factories import (
    SEEDS,
    Response,
    limesurvey_header,
    seed_questions,
    write_limesurvey,
    write_surveymonkey,
)
from tests.project_copy import seeds_copy

N_2021 = len(seed_questions("2021"))
N_2018 = len(seed_questions("2018"))


def rows(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "wh" / "test.duckdb"


def lime_2021(tmp_path: Path, **overrides) -> Path:
    first = seed_questions("2021")[0]
    return write_limesurvey(
        tmp_path / "raw" / "2021",
        [
            Response(
                "Bordeaux Métropole",
                "METRO",
                answer="A4",
                overrides={limesurvey_header(first): "NC"},
            ),
            Response(
                "Nantes Métropole", "METRO", answer="A2", overrides={limesurvey_header(first): ""}
            ),
            Response("Nîmes", "COM", submitted="", answer="A1"),  # incomplete
            Response("Ville de Nîmes", "COM", submitted="2020-12-02 10:00:00", answer="A5"),
            Response("Nîmes", "COM", submitted="2020-12-03 10:00:00", answer="A6"),  # kept
        ],
        **overrides,
    )


def test_limesurvey_csv_is_loaded_in_long_form(tmp_path: Path, warehouse: Path) -> None:
    load = load_edition(lime_2021(tmp_path), warehouse, SEEDS)

    assert load.respondents == 3
    assert load.answers == 3 * N_2021
    assert load.answer_states == {"answered": 3 * N_2021 - 2, "no_answer": 1, "not_concerned": 1}
    [file] = load.files
    assert (file.rows_read, file.rows_loaded, file.rows_quarantined) == (5, 3, 2)
    assert rows(
        warehouse,
        "SELECT respondent_id, type_code, source_row FROM raw.responses ORDER BY respondent_id",
    ) == [("213001894", "COM", 6), ("243300316", "METRO", 2), ("244400404", "METRO", 3)]
    # Nîmes submitted twice: the latest complete submission (answers A6) is the one kept.
    assert rows(
        warehouse, "SELECT DISTINCT level FROM raw.answers WHERE respondent_id = '213001894'"
    ) == [(6,)]
    assert rows(
        warehouse, "SELECT source_row, check_name FROM raw.quarantine ORDER BY source_row"
    ) == [(4, "incomplete_response"), (5, "duplicate_submission")]


def test_personal_data_never_reaches_the_warehouse(tmp_path: Path, warehouse: Path) -> None:
    load_edition(lime_2021(tmp_path), warehouse, SEEDS)
    content = warehouse.read_bytes()
    for personal in (b"example.org", b"192.0.2.", b"tok0001"):
        assert personal not in content
    columns = {
        c
        for (c,) in rows(
            warehouse,
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'raw'",
        )
    }
    assert not columns & {"ipaddr", "token", "email", "Courriel du contact"}


def test_surveymonkey_xlsx_maps_wordings_labels_and_aliases(
    tmp_path: Path, warehouse: Path
) -> None:
    first = seed_questions("2018")[0]["wording_fr"]
    folder = write_surveymonkey(
        tmp_path / "raw" / "2018",
        [
            Response(
                "MEL",
                submitted="03/02/2018 10:00:00 AM",
                answer="2",
                overrides={first: "Non concerné"},
            ),
            Response(
                "Communauté urbaine de Bordeaux",
                submitted="03/03/2018 10:00:00 AM",
                answer="5",
                overrides={first: ""},
            ),
        ],
    )
    load = load_edition(folder, warehouse, SEEDS)

    assert load.respondents == 2
    assert load.answer_states == {"answered": 2 * N_2018 - 2, "no_answer": 1, "not_concerned": 1}
    # Short form and former name resolve to the SIREN; the former name keeps its old type.
    assert rows(
        warehouse,
        "SELECT respondent_id, collectivity_name, type_code, source_row "
        "FROM raw.responses ORDER BY source_row",
    ) == [
        ("200093201", "MEL", "METRO", 3),
        ("243300316", "Communauté urbaine de Bordeaux", "CU", 4),
    ]
    assert rows(
        warehouse,
        "SELECT DISTINCT level FROM raw.answers WHERE respondent_id = "
        "'200093201' AND answer_state = 'answered'",
    ) == [(2,)]


def test_reloading_replaces_only_that_edition(tmp_path: Path, warehouse: Path) -> None:
    load_edition(
        write_surveymonkey(
            tmp_path / "raw" / "2018",
            [Response("MEL", answer="3", submitted="03/02/2018 10:00:00 AM")],
        ),
        warehouse,
        SEEDS,
    )
    folder = lime_2021(tmp_path)
    load_edition(folder, warehouse, SEEDS)
    before = rows(warehouse, "SELECT * EXCLUDE (quarantined_at) FROM raw.quarantine")
    load_edition(folder, warehouse, SEEDS)

    assert rows(
        warehouse, "SELECT edition_code, count(*) FROM raw.answers GROUP BY 1 ORDER BY 1"
    ) == [("2018", N_2018), ("2021", 3 * N_2021)]
    assert rows(warehouse, "SELECT * EXCLUDE (quarantined_at) FROM raw.quarantine") == before
    assert rows(warehouse, "SELECT count(*) FROM raw.load_log") == [(2,)]


def test_failed_load_leaves_previous_data_untouched(tmp_path: Path, warehouse: Path) -> None:
    folder = lime_2021(tmp_path)
    load_edition(folder, warehouse, SEEDS)
    before = rows(warehouse, "SELECT * FROM raw.answers ORDER BY ALL")
    write_limesurvey(folder, [Response("Bordeaux Métropole", "METRO", answer="A9")])

    with pytest.raises(IngestError) as caught:
        load_edition(folder, warehouse, SEEDS)
    assert "answer not known to the manifest" in caught.value.problem
    assert (caught.value.row, caught.value.value) == (2, "A9")
    assert caught.value.column == limesurvey_header(seed_questions("2021")[0])
    assert rows(warehouse, "SELECT * FROM raw.answers ORDER BY ALL") == before


def test_formula_like_cells_are_stored_as_text(tmp_path: Path, warehouse: Path) -> None:
    formula = '=HYPERLINK("http://x.example","clic")'
    load_edition(
        write_limesurvey(tmp_path / "raw" / "2021", [Response(formula, "METRO")]),
        warehouse,
        SEEDS,
        max_bad_share=1.0,
    )
    assert rows(warehouse, "SELECT value, check_name FROM raw.quarantine") == [
        (formula, "unknown_collectivity")
    ]


def test_unknown_column_names_the_column(tmp_path: Path) -> None:
    folder = lime_2021(tmp_path, manifest_overrides={"personal_columns": ["ipaddr", "token"]})
    with pytest.raises(IngestError) as caught:
        load_edition(folder, tmp_path / "w.duckdb", SEEDS)
    assert caught.value.column == "Courriel du contact"
    assert caught.value.file.endswith("export.csv")
    assert "What to do" in str(caught.value)
    assert not (tmp_path / "w.duckdb").exists()


def test_wording_match_ignores_accents_quotes_spaces_and_case(tmp_path: Path) -> None:
    folder = write_surveymonkey(tmp_path / "raw" / "2018", [Response("MEL")])
    manifest = load_manifest(folder)
    reference = load_reference(SEEDS, "2018")
    wording = seed_questions("2018")[0]["wording_fr"]
    mangled = "  " + normalize_text(wording).upper().replace("'", "\u2019") + " "
    headers = [
        h if h != wording else mangled
        for h in [
            *manifest.respondent.values(),
            *manifest.metadata_columns,
            *manifest.personal_columns,
            *(q["wording_fr"] for q in seed_questions("2018")),
        ]
    ]
    plan = plan_columns(folder / "export.xlsx", tuple(headers), manifest, reference)
    assert plan.questions[mangled].question_code == seed_questions("2018")[0]["question_code"]


def test_name_normalisation() -> None:
    assert normalize_name("Saint-Étienne  Métropole") == normalize_name("saint etienne metropole")
    assert normalize_text("L’Œuvre  «Test»") == 'l\'oeuvre "test"'


def test_python_lookups_become_varchar_tables_nulls_and_empties_included() -> None:
    from barometre.ingest.sql import register_columns, register_rows

    con = duckdb.connect()
    rows = [("é", None), ("1", "2")] + [(None, "x")] * 3000  # the type is not guessed
    register_rows(con, "t", ["a", "b"], rows)
    assert con.execute("SELECT count(a), count(b), count(*) FROM t").fetchone() == (2, 3001, 3002)
    assert con.execute("SELECT * FROM t LIMIT 2").fetchall() == [("é", None), ("1", "2")]
    register_rows(con, "empty", ["a", "b"], [])
    register_columns(con, "also_empty", {"c": []})
    for table in ("t", "empty", "also_empty"):
        described = con.execute(f"SELECT column_type FROM (DESCRIBE {table})").fetchall()
        assert {t for (t,) in described} == {"VARCHAR"}, table
    assert con.execute("SELECT count(*) FROM empty").fetchone() == (0,)
    assert not con.execute("SELECT * FROM duckdb_views() WHERE NOT internal").fetchall()


def test_names_resolve_by_normalised_key_and_an_alias_decides_alone(tmp_path: Path) -> None:
    """The reference's names as candidates: one row per SIREN (the last), every SIREN
    whose name has the same key a candidate (ambiguous), an alias the one candidate of
    its key (its own type if it gives one). `names` (the seed advice's view) and the
    table the export's names are resolved against say the same."""
    from barometre.ingest.resolve import resolve_collectivities

    seeds = seeds_copy(tmp_path)
    (seeds / "collectivities.csv").write_text(
        "siren,insee_code,name,type_code,population,population_year,region_code,region_name\n"
        "100000001,,Saint-Denis,CA,1,2023,11,IDF\n"
        "100000002,,Saint Denis,CU,1,2023,11,IDF\n"  # same key: ambiguous
        "100000003,,Ville Haute,CA,1,2023,11,IDF\n"
        "100000003,,Ville-Haute Agglo,CA,1,2023,11,IDF\n"  # same SIREN: this row counts
        "100000004,,Métropole Basse,ME,1,2023,11,IDF\n"
        "100000005,,Métropole  basse,CU,1,2023,11,IDF\n",  # same key, but see the alias
        encoding="utf-8",
    )
    (seeds / "collectivity_aliases.csv").write_text(
        "alias,siren,type_code,note\n"
        "metropole basse,100000004,,decides between two\n"
        "Agglo du Haut,100000003,CU,an older type\n",
        encoding="utf-8",
    )
    reference = load_reference(seeds, "2021")
    assert {key: [tuple(c) for c in cs] for key, cs in reference.names.items()} == {
        "saint denis": [("100000001", "Saint-Denis", "CA"), ("100000002", "Saint Denis", "CU")],
        "ville haute agglo": [("100000003", "Ville-Haute Agglo", "CA")],
        "metropole basse": [("100000004", "Métropole Basse", "ME")],
        "agglo du haut": [("100000003", "Ville-Haute Agglo", "CU")],
    }
    con = duckdb.connect()
    exported = ["SAINT DENIS", "Ville-Haute Agglo", "Ville Haute", "Métropole basse"]
    exported.append("Agglo du Haut")
    con.execute(
        "CREATE TEMP TABLE stage_responses AS SELECT unnest(?::VARCHAR[]) AS collectivity_name",
        [exported],
    )
    resolve_collectivities(con, reference)
    resolved = con.execute(
        "SELECT collectivity_name, respondent_id, reference_type, candidates "
        "FROM name_resolution ORDER BY collectivity_name"
    ).fetchall()
    assert resolved == [
        ("Agglo du Haut", "100000003", "CU", "1"),
        ("Métropole basse", "100000004", "ME", "1"),
        ("SAINT DENIS", None, None, "2"),
        ("Ville Haute", None, None, "0"),  # the first row of its SIREN no longer counts
        ("Ville-Haute Agglo", "100000003", "CA", "1"),
    ]


def test_type_outside_accepted_set_is_quarantined_with_its_value(
    tmp_path: Path, warehouse: Path
) -> None:
    folder = write_limesurvey(
        tmp_path / "raw" / "2021",
        [Response("Bordeaux Métropole", "METRO"), Response("Nantes Métropole", "EPT")],
    )
    load = load_edition(folder, warehouse, SEEDS, max_bad_share=0.5)
    assert load.respondents == 1
    assert rows(
        warehouse, "SELECT source_row, column_name, value, check_name FROM raw.quarantine"
    ) == [(3, "Type de collectivité", "EPT", "type_not_accepted")]


def test_too_many_bad_rows_refuse_the_edition_and_keep_the_previous_load(
    tmp_path: Path, warehouse: Path
) -> None:
    names = [r for r in ("Bordeaux Métropole", "Nantes Métropole", "Nîmes", "MEL", "Grand Lyon")]
    good = [Response(n, "COM" if n == "Nîmes" else "METRO") for n in names]
    folder = write_limesurvey(tmp_path / "raw" / "2021", good)
    load_edition(folder, warehouse, SEEDS)
    before = rows(warehouse, "SELECT * FROM raw.responses ORDER BY ALL")

    # 1 bad row in 5 is 20 %: refused at the default 5 %, accepted at 25 %.
    write_limesurvey(folder, [*good[:4], Response("Nowhere-sur-Mer", "COM")])
    with pytest.raises(IngestError, match=r"1 of 5 rows \(20.0%\) break the row contract"):
        load_edition(folder, warehouse, SEEDS)
    assert rows(warehouse, "SELECT * FROM raw.responses ORDER BY ALL") == before
    assert load_edition(folder, warehouse, SEEDS, max_bad_share=0.25).respondents == 4


def test_dry_run_reports_every_problem_and_writes_nothing(tmp_path: Path) -> None:
    folder = write_limesurvey(
        tmp_path / "raw" / "2021",
        [
            Response("Bordeaux Métropole", "METRO"),
            Response("Nowhere-sur-Mer", "COM"),
            Response("Nantes Métropole", "XX"),
            Response("Nîmes", "COM", submitted=""),
        ],
    )
    result = load_edition(folder, tmp_path / "w.duckdb", SEEDS, dry_run=True)
    assert [(e[1], e[4]) for e in result.quarantine] == [
        (3, "unknown_collectivity"),
        (4, "type_not_accepted"),
        (5, "incomplete_response"),
    ]
    assert result.files[0].rows_loaded == 1
    assert result.refused and "2 of 4 rows (50.0%)" in result.refused
    assert not (tmp_path / "w.duckdb").exists()


def test_verification_reads_the_warehouse_and_catches_corruption(
    tmp_path: Path, warehouse: Path
) -> None:
    from barometre.ingest.verify import verify_reconciliation, verify_row_contract

    load_edition(lime_2021(tmp_path), warehouse, SEEDS)
    assert verify_reconciliation(warehouse, "2021").passed
    assert verify_row_contract(warehouse, SEEDS, "2021").passed

    con = duckdb.connect(str(warehouse))
    con.execute(
        "UPDATE raw.answer_keys SET level = 9 WHERE question_code = 'T02_Q01' "
        "AND answer_state = 'answered'"
    )
    con.execute("DELETE FROM raw.responses WHERE respondent_id = '244400404'")
    con.close()
    contract = verify_row_contract(warehouse, SEEDS, "2021")
    assert not contract.passed and "level_outside_scale" in contract.details["failures"]
    # The deleted response's answers are still stored but no longer visible.
    assert contract.details["answers_stored"] > contract.details["answers"]
    assert not verify_reconciliation(warehouse, "2021").passed


def test_ingestion_asset_reports_blocking_checks(tmp_path: Path) -> None:
    from dagster import DagsterInstance, materialize

    from barometre.common.resources import WarehouseResource
    from barometre.ingest.assets import raw_edition

    lime_2021(tmp_path)
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("edition", ["2021"])
        result = materialize(
            [raw_edition],
            partition_key="2021",
            instance=instance,
            resources={
                "warehouse": WarehouseResource(
                    data_dir=str(tmp_path / "raw"), warehouse=str(tmp_path / "w.duckdb")
                )
            },
        )
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {"rows_reconcile": True, "row_contract": True, "no_contract_quarantine": True}


def test_a_type_is_accepted_only_from_the_edition_that_admits_it(
    tmp_path: Path, warehouse: Path
) -> None:
    # CC (communautés de communes) is admitted from the 3rd edition: refused in 2021.
    folder = write_limesurvey(
        tmp_path / "raw" / "2021",
        [Response("Bordeaux Métropole", "METRO"), Response("Nantes Métropole", "CC")],
    )
    load_edition(folder, warehouse, SEEDS, max_bad_share=0.5)
    assert rows(warehouse, "SELECT check_name, value FROM raw.quarantine") == [
        ("type_not_accepted", "CC")
    ]
    assert "CC" not in load_reference(SEEDS, "2021").type_codes


def test_contract_failures_in_a_large_export_are_found_without_pandas_seeing_every_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pandera validates distinct value combinations (counted by DuckDB), never the table."""
    import dataclasses

    import barometre.ingest.contract as contract

    frames: list[int] = []
    validate = contract.contract_failures

    def spy(frame, schema):
        frames.append(len(frame))
        return validate(frame, schema)

    monkeypatch.setattr(contract, "contract_failures", spy)
    # A 1..5 scale for the contract, so that every A6 answer breaks it (the manifest's
    # codes still decode A6 to level 6).
    answer_schema = contract.answer_schema
    monkeypatch.setattr(
        contract,
        "answer_schema",
        lambda ref: answer_schema(dataclasses.replace(ref, scale_size=5)),
    )
    names = ["Bordeaux Métropole", "Nantes Métropole", "Nîmes", "MEL", "Grand Lyon"]
    good = [
        Response(
            names[i % 5], "COM" if names[i % 5] == "Nîmes" else "METRO", answer=f"A{i % 5 + 1}"
        )
        for i in range(650)
    ]
    bad = [Response("Nantes Métropole", "EPT"), Response("MEL", "METRO", answer="A6")]
    folder = write_limesurvey(tmp_path / "raw" / "2021", [*good, *bad])

    result = load_edition(folder, tmp_path / "w.duckdb", SEEDS, dry_run=True, max_bad_share=1.0)

    answers = 651 * N_2021  # every answer of the responses that pass the response rules
    assert answers > 50_000
    # responses: one frame of distinct combinations (at most one per response); answers:
    # question × (state, level) combinations: 6 levels here, far fewer than the answers.
    assert len(frames) == 2 and frames[0] <= 652
    assert frames[1] == N_2021 * 6 < answers / 100
    contract_entries = [e for e in result.quarantine if e[4] not in ("duplicate_submission",)]
    assert [(e[1], e[2], e[3], e[4]) for e in contract_entries if e[4] == "type_not_accepted"] == [
        (652, "Type de collectivité", "EPT", "type_not_accepted")
    ]
    outside = [e for e in contract_entries if e[4] == "level_outside_scale"]
    assert {(e[1], e[3]) for e in outside} == {(653, "A6")}
    assert sorted(e[2] for e in outside) == sorted(
        limesurvey_header(q) for q in seed_questions("2021")
    )
    assert all(e[5] == contract.LEVEL_IN_SCALE.reason for e in outside)


def test_duplicate_answers_and_ids_in_the_warehouse_fail_the_row_contract(
    tmp_path: Path, warehouse: Path
) -> None:
    from barometre.ingest.verify import verify_row_contract

    load_edition(lime_2021(tmp_path), warehouse, SEEDS)
    con = duckdb.connect(str(warehouse))
    con.execute("INSERT INTO raw.answer_cells SELECT * FROM raw.answer_cells LIMIT 1")
    con.execute(
        "UPDATE raw.responses SET response_id = (SELECT min(response_id) FROM raw.responses)"
    )
    con.close()
    contract = verify_row_contract(warehouse, SEEDS, "2021")
    assert not contract.passed
    assert contract.details["failures"] == ["duplicate_answer", "duplicate_response_id"]


def test_ingestion_memory_is_bounded_and_spills_to_a_private_folder(
    tmp_path: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    from barometre.ingest.bounded import bounded_connection

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setenv("BAROMETRE_INGEST_MEMORY_MB", "64")
    with bounded_connection() as con:
        limit, spill = con.execute(
            "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
        ).fetchone()
        assert limit == "64.0 MiB"
        assert Path(spill).parent == tmp_path / "tmp"
        assert Path(spill).stat().st_mode & 0o077 == 0  # owner-only
    assert not Path(spill).exists()
    # A load under a small limit still completes (and leaves no spill folder behind).
    assert load_edition(lime_2021(tmp_path), warehouse, SEEDS).respondents == 3
    assert list((tmp_path / "tmp").iterdir()) == []


def test_running_out_of_memory_is_a_refusal_naming_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from barometre.ingest.bounded import bounded_connection

    monkeypatch.setenv("BAROMETRE_INGEST_MEMORY_MB", "1")
    refused = pytest.raises(IngestError)
    with refused as caught, bounded_connection(refusing_for=Path("data/raw/2021")) as con:
        # A single list of 50 M integers cannot be spilled.
        con.execute("SELECT length(list(range)) FROM range(50000000)").fetchall()
    assert "BAROMETRE_INGEST_MEMORY_MB" in caught.value.problem
    assert caught.value.file.endswith("2021") and caught.value.hint
