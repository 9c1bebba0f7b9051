"""The Validation page's district shares (issue 9): the figure and tables as pure functions of tiny frames, a
report's share files read through the locked reader (and their absence in older reports), and the page's view."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from dashboard import i18n, share_figures
from dashboard.data import SHARE_COLUMNS, SHARE_ERROR_COLUMNS, SHIPPED_REPORT, Registry

DOCS_REPORT = Path(__file__).resolve().parents[2] / "docs" / "validation"


def _shares() -> pd.DataFrame:
    """Shenzhen 2012 (two districts, fitted) and Guangzhou 2019 (one district, held out)."""
    rows = [("shenzhen", 2012.0, "440306", "Bao'an", "宝安区", "outer_suburb", "calibration", 0.25, 0.21, 0.20, 0.22,
             0.255),
            ("shenzhen", 2012.0, "440304", "Futian", "福田区", "core", "calibration", 0.13, 0.14, 0.13, 0.15, 0.127),
            ("guangzhou", 2019.0, "440113", "Panyu", "番禺区", "outer_suburb", "validation", 0.12, 0.13, 0.13, 0.13,
             0.139)]
    frame = pd.DataFrame(rows, columns=["city", "year", "district", "district_name", "district_name_cn", "zone",
                                        "target_kind", "observed_share", "simulated_share", "simulated_lo",
                                        "simulated_hi", "persistence_share"])
    frame["target_id"] = [f"{c}_district_share_{d}_{int(y)}" for c, d, y in
                          zip(frame["city"], frame["district"], frame["year"], strict=True)]
    frame["model_error_pp"] = 100 * (frame["simulated_share"] - frame["observed_share"])
    frame["persistence_error_pp"] = 100 * (frame["persistence_share"] - frame["observed_share"])
    return frame[list(SHARE_COLUMNS)]


def _errors() -> pd.DataFrame:
    from experiments.calibration.shares import persistence_errors

    return persistence_errors(_shares())


def test_share_figure_draws_model_and_persistence_per_city_and_year() -> None:
    import plotly.graph_objects as go

    fig = share_figures.share_figure(_shares(), "en")
    go.Figure(fig)  # a valid plotly figure
    titles = [a["text"] for a in fig["layout"]["annotations"]]
    assert titles == ["Shenzhen 2012 · fitted (calibration)", "Guangzhou 2019 · held out (validation)"]
    named = [tr for tr in fig["data"] if tr.get("showlegend")]
    assert [tr["name"] for tr in named] == ["2010 carried forward", "Simulated"]
    model = [tr for tr in fig["data"] if tr.get("legendgroup") == "simulated"]
    assert model[0]["x"] == pytest.approx([25.0, 13.0]) and model[0]["y"] == pytest.approx([21.0, 14.0])
    assert model[0]["text"] == ["Bao'an", "Futian"] and model[1]["xaxis"] == "x2"
    persistence = [tr for tr in fig["data"] if tr.get("legendgroup") == "persistence"]
    assert persistence[1]["y"] == pytest.approx([13.9]) and "−4.00 pp" in model[0]["hovertext"][0]
    zh = share_figures.share_figure(share_figures.share_filter(_shares(), "guangzhou"), "zh")
    assert [a["text"] for a in zh["layout"]["annotations"]] == ["广州 2019 · 留出（验证）"]
    assert zh["data"][-1]["text"] == ["番禺区"]
    empty = share_figures.share_figure(_shares().iloc[0:0], "en")
    assert empty["layout"]["annotations"][0]["text"] == "No data for this choice."


def test_share_tables_read_in_both_languages() -> None:
    errors = share_figures.share_error_table(_errors(), "en")
    assert list(errors["City"]) == ["Shenzhen", "Guangzhou"]  # city order, whatever the frame's
    sz = errors.iloc[0]
    assert sz["Model MAE (pp)"] == 2.5 and sz["Persistence MAE (pp)"] == 0.4
    assert sz["Beats persistence"] == "no" and sz["Within half of persistence"] == "no"
    table = share_figures.share_table(_shares(), "zh")
    assert list(table.columns)[:3] == ["城市", "年份", "区县"] and table.iloc[0]["区县"] == "宝安区 (440306)"
    assert table.iloc[0]["观测比重（%）"] == 25.0 and table.iloc[0]["模型误差（百分点）"] == -4.0
    assert set(i18n.LABELS["en"]) == set(i18n.LABELS["zh"])


def test_validation_figure_leaves_shares_to_their_own_figure() -> None:
    from dashboard import figures

    table = pd.DataFrame({"city": ["shenzhen"] * 2, "year": [2012.0, 2012.0],
                          "measure": ["district_share", "residents_original"], "target_kind": ["calibration",
                                                                                               "validation"],
                          "observed": [0.25, 10.5e6], "simulated_mean": [0.21, 11.0e6], "simulated_lo": [0.2, 10.9e6],
                          "simulated_hi": [0.22, 11.1e6], "target_id": ["s", "o"], "comparison": ["equal"] * 2,
                          "z": [-3.0, 0.5], "relative_error": [-0.16, 0.05], "inside_band": [False, False],
                          "sigma_rel": [0.05, 0.08], "confidence": ["high"] * 2, "note": [""] * 2,
                          "source": [""] * 2})
    fig = figures.validation_figure(table, "en")
    assert [a["text"] for a in fig["layout"]["annotations"]] == [
        "Shenzhen · Residents, as first published (pre-revision)"]
    shown = figures.validation_table(table, "en")
    assert shown.iloc[0]["Observed"] == 25.0 and shown.iloc[0]["Simulated mean"] == 21.0
    assert list(shown["Unit"]) == ["%", "persons"] and shown.iloc[1]["Observed"] == 10.5e6


def _report(folder: Path, shares: bool) -> Path:
    folder.mkdir(parents=True)
    shutil.copy(DOCS_REPORT / "validation_table.parquet", folder)
    (folder / "manifest.json").write_text(json.dumps({"seeds": 2, "scale": 2000.0, "end": 2020}), "utf-8")
    if shares:
        _shares().to_parquet(folder / "district_shares.parquet", index=False)
        _errors().to_parquet(folder / "district_share_errors.parquet", index=False)
    return folder


def test_report_share_files_are_read_and_older_reports_have_none(tmp_path: Path) -> None:
    _report(tmp_path / "res" / "new", shares=True)
    _report(tmp_path / "res" / "old", shares=False)
    reg = Registry(tmp_path / "res")
    new = reg.report("new")
    assert list(new.shares().columns) == list(SHARE_COLUMNS) and len(new.shares()) == 3
    assert list(new.share_errors().columns) == list(SHARE_ERROR_COLUMNS)
    assert new.share_errors()["beats_persistence"].dtype == bool and new.shares()["year"].dtype == "float64"
    old = reg.report("old")
    assert old.shares().empty and list(old.shares().columns) == list(SHARE_COLUMNS) and old.share_errors().empty
    assert reg.report("shipped").shares().empty or (SHIPPED_REPORT / "district_shares.parquet").is_file()
    bad = _report(tmp_path / "res2" / "bad", shares=False)
    pd.DataFrame({"city": ["shenzhen"]}).to_parquet(bad / "district_shares.parquet")
    with pytest.raises(ValueError, match="district_shares.parquet lacks columns"):
        Registry(tmp_path / "res2").report("bad").shares()


def test_share_view_of_the_page(pages: dict[str, Any], tmp_path: Path) -> None:
    val = pages["validation"]
    report = Registry(_report(tmp_path / "new", shares=True).parent).report("new")
    figure, errors, shares, missing = val.share_view(report, "shenzhen", "en")
    assert not missing and list(errors["City"]) == ["Shenzhen"] and len(shares) == 2
    assert [a["text"] for a in figure["layout"]["annotations"]] == ["Shenzhen 2012 · fitted (calibration)"]
    _, _, every, _ = val.share_view(report, "<script>", "zh")  # an unknown city: every row
    assert len(every) == 3
    # the callback over the shipped report (made before district shares): the page says so, tables empty
    out = val.update_shares("shipped", "all", "en")
    if (SHIPPED_REPORT / "district_shares.parquet").is_file():
        assert out[-1] is False
    else:
        assert out[-1] is True and out[1] == [] and out[3] == []
    text = str(val.layout(report="shipped", lang="en"))
    assert "val-share-graph" in text and "District shares: the model against the 2010 census carried forward" in text
