"""Data access: experiments and validation reports by identifier only, DuckDB locked to the results, the frames
the pages read."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dashboard.data import (
    REPORT_COLUMNS,
    SHIPPED_REPORT,
    SHIPPED_REPORT_ID,
    Registry,
    UnknownExperiment,
    UnknownReport,
    city_runs,
    zone_runs,
)

DOCS_REPORT = Path(__file__).resolve().parents[2] / "docs" / "validation"


def test_registry_finds_the_sweep_by_its_name(results_root: Path) -> None:
    reg = Registry(results_root)
    assert reg.ids() == ["dash_fixture"]
    experiment = reg.get("dash_fixture")
    assert set(experiment.scenarios()["label"]) == {"regimes=historical", "regimes=talent_only"}
    assert Registry(results_root / "dash_fixture").ids() == ["dash_fixture"]  # a sweep folder itself


@pytest.mark.parametrize("ident", ["../dash_fixture", "/etc/passwd", "dash_fixture/../../x", "", "x" * 500, 3,
                                   None, ["dash_fixture"], {"a": 1}, "nope"])
def test_anything_but_a_known_identifier_is_refused(results_root: Path, ident: object) -> None:
    with pytest.raises(UnknownExperiment):
        Registry(results_root).get(ident)


def test_duckdb_cannot_read_outside_the_experiment(results_root: Path) -> None:
    experiment = Registry(results_root).get("dash_fixture")
    with pytest.raises(duckdb.Error):
        experiment.sql("SELECT * FROM read_csv('/etc/passwd')")
    with pytest.raises(duckdb.Error):
        experiment.sql("SET enable_external_access = true")


def test_summaries_and_runs_agree(results_root: Path) -> None:
    experiment = Registry(results_root).get("dash_fixture")
    summary = experiment.summary_city()
    runs = experiment.run_values(2013.0, ["hukou_share"])
    assert len(runs) == 2 * 2 * 3  # scenarios × seeds × cities
    for (key, city), group in runs.groupby(["key", "city"]):
        row = summary[(summary["key"] == key) & (summary["city"] == city) & (summary["year"] == 2013.0)
                      & (summary["metric"] == "hukou_share")]
        assert row["mean"].iloc[0] == pytest.approx(group["value"].mean())
    assert experiment.years()[-1] == 2013.0 and 2010.83 in experiment.years()
    assert len(experiment.seeds()) == 4
    assert experiment.row_count() == 4 * 5 * 41
    assert experiment.info()["command"].startswith("hukou sweep ")


def test_zone_metrics_follow_the_city_formulas(results_root: Path) -> None:
    """Zone sums of the district columns give the city metric when the zone is the whole city."""
    experiment = Registry(results_root).get("dash_fixture")
    zones = zone_runs(experiment)
    cities = city_runs(experiment)
    share = zones[(zones["metric"] == "suburban_dispersion_migrants")].groupby(
        ["key", "replicate", "year", "city"])["value"].sum()
    assert share.dropna().to_numpy() == pytest.approx(1.0)  # zone shares of a city's migrants add up to one
    z = zones[(zones["metric"] == "settlements_total") & (zones["year"] == 2013.0)].groupby(
        ["key", "replicate", "city"])["value"].sum()
    c = cities[(cities["metric"] == "settlements_total") & (cities["year"] == 2013.0)].set_index(
        ["key", "replicate", "city"])["value"]
    assert z.sort_index().to_numpy() == pytest.approx(c.sort_index().to_numpy())


def test_shipped_report_is_the_documented_one(tmp_path: Path) -> None:
    """The package's copy of docs/validation/ (docs/ is not package data) has not drifted from the report."""
    assert (SHIPPED_REPORT / "manifest.json").read_bytes() == (DOCS_REPORT / "manifest.json").read_bytes()
    shipped = pd.read_parquet(SHIPPED_REPORT / "validation_table.parquet")
    pd.testing.assert_frame_equal(shipped, pd.read_parquet(DOCS_REPORT / "validation_table.parquet"))
    reg = Registry(tmp_path)  # no results at all: the shipped report is still there
    assert reg.ids() == [] and reg.report_ids() == [SHIPPED_REPORT_ID]
    report = reg.report(SHIPPED_REPORT_ID)
    table = report.table()
    assert list(table.columns) == list(REPORT_COLUMNS) and len(table) == len(shipped)
    assert set(table["target_kind"]) == {"initial", "calibration", "validation"}
    census = table[(table["target_id"] == "shenzhen_residents_2020c")].iloc[0]
    # docs/validation.md: Shenzhen's 2020 census missed by +1.9%
    assert census["year"] == pytest.approx(2020.83) and census["relative_error"] == pytest.approx(0.0190, abs=1e-4)
    info = report.info()
    assert info["shipped"] and info["seeds"] == 5 and info["years"] == "2010–2022"
    assert info["command"] == "hukou validate --out DIR --seeds 5 --scale 1000 --end 2022"
    assert info["calibrated"]["beta_prospect"] == pytest.approx(0.29)


def _report(folder: Path, table: pd.DataFrame | None = None) -> Path:
    folder.mkdir(parents=True)
    if table is None:
        shutil.copy(DOCS_REPORT / "validation_table.parquet", folder)
    else:
        table.to_parquet(folder / "validation_table.parquet")
    (folder / "manifest.json").write_text(json.dumps({"seeds": 2, "scale": 5000.0, "end": 2020}), "utf-8")
    return folder


def test_reports_under_the_results_are_found_by_identifier(results_root: Path, tmp_path: Path) -> None:
    root = tmp_path / "results"
    shutil.copytree(results_root / "dash_fixture", root / "dash_fixture")
    _report(root / "validation" / "scale1000-seeds5")  # hukou validate --out validation/scale1000-seeds5
    _report(root / "check")
    reg = Registry(root)
    assert reg.ids() == ["dash_fixture"]  # a report folder is not an experiment
    assert reg.report_ids() == [SHIPPED_REPORT_ID, "check", "validation.scale1000-seeds5"]
    report = reg.report("validation.scale1000-seeds5")
    assert report.folder == (root / "validation" / "scale1000-seeds5").resolve() and not report.shipped
    assert len(report.table()) == len(pd.read_parquet(DOCS_REPORT / "validation_table.parquet")) == 122
    assert report.info()["command"] == f"hukou validate --out {report.folder} --seeds 2 --scale 5000 --end 2020"
    assert reg.resolve_report("nope").id == SHIPPED_REPORT_ID
    for ident in ("../check", "validation/scale1000-seeds5", str(root / "check"), "", None, ["check"], "nope"):
        with pytest.raises(UnknownReport):
            reg.report(ident)
    assert Registry(root / "check").report_ids() == [SHIPPED_REPORT_ID, "check"]  # a report folder itself


def test_a_report_without_the_columns_is_refused(tmp_path: Path) -> None:
    _report(tmp_path / "res" / "bad", pd.DataFrame({"city": ["shenzhen"], "year": [2011.0]}))
    with pytest.raises(ValueError, match="lacks columns"):
        Registry(tmp_path / "res").report("bad").table()


def test_a_damaged_run_is_left_out_and_named_and_a_damaged_summary_is_explained(
        results_root: Path, tmp_path: Path, pages: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 12, item 6 (review X1): one damaged file gave only "internal error" and broke the views reading it."""
    import dashboard.data
    from dashboard.components import shell
    from dashboard.data import DamagedResults
    from experiments.dataset import layout, part_path
    from experiments.sweep import compact_sweep

    root = tmp_path / "results"
    shutil.copytree(results_root / "dash_fixture", root / "dash_fixture")
    folder = root / "dash_fixture"
    compact_sweep(folder, runs_per_file=1)  # one run a part, so that one damaged file costs one run
    parts = layout(folder).parts
    victim = part_path(folder, "city_year", parts[0].name)
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))
    experiment = Registry(root).get("dash_fixture")
    assert [d.owner for d in experiment.damage()] == [parts[0].name]
    assert parts[0].runs[0] not in experiment.published_runs() and len(experiment.published_runs()) == 3
    assert len(experiment.run_values(2013.0, ["hukou_share"])) == 3 * 3  # three good runs × cities
    monkeypatch.setattr(dashboard.data, "_REGISTRY", Registry(root))  # the app's registry comes back afterwards
    page = str(shell("overview", "en", "dash_fixture", []))
    assert "damaged-results" in page and parts[0].name in page and "changed after it was written" in page
    summary = folder / "summary_city_year.parquet"
    summary.write_bytes(summary.read_bytes()[:64])
    with pytest.raises(DamagedResults, match="summary_city_year.parquet.*hukou resume"):
        Registry(root).get("dash_fixture").summary_city()
    monkeypatch.setattr(dashboard.data, "_REGISTRY", Registry(root))
    layout = str(pages["overview"].layout(exp="dash_fixture", lang="en"))
    assert "summary_city_year.parquet" in layout and "hukou resume" in layout
