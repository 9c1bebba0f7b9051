"""Figures are pure functions of frames: small hand-made frames in, traces out; labels in both languages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard import figures, geo, i18n


def _runs() -> pd.DataFrame:
    rows = []
    for key, base in (("a", 0.5), ("b", 0.4)):
        for rep, noise in enumerate((-0.01, 0.0, 0.01)):
            for year in (2011.0, 2012.0):
                rows.append({"key": key, "replicate": rep, "year": year, "metric": "hukou_share", "zone": "",
                             "value": base + noise + (year - 2011) * 0.1})
    return pd.DataFrame(rows)


def test_difference_frame_is_the_welch_interval() -> None:
    diff = figures.difference_frame(_runs(), "a", "b")
    row = diff[diff["year"] == 2011.0].iloc[0]
    assert row["diff"] == pytest.approx(0.1)
    se = np.sqrt(0.0001 / 3 + 0.0001 / 3)  # sample variance of (-0.01, 0, 0.01) is 1e-4
    from scipy import stats

    assert row["high"] - row["diff"] == pytest.approx(stats.t.ppf(0.975, 4) * se)
    assert row["n_reform"] == 3 and row["n_baseline"] == 3


def test_difference_needs_two_seeds_for_a_band() -> None:
    one = _runs()[lambda f: f["replicate"] == 0]
    diff = figures.difference_frame(one, "a", "b")
    assert diff["low"].isna().all() and diff["diff"].notna().all()


def test_compare_figure_has_a_band_and_a_line_per_panel() -> None:
    runs = pd.concat([_runs().assign(metric=m) for m in ("hukou_share", "school_access")])
    fig = figures.compare_figure(figures.difference_frame(runs, "a", "b"), "en")
    lines = [tr for tr in fig["data"] if tr.get("mode") == "lines"]
    bands = [tr for tr in fig["data"] if tr.get("fill") == "toself"]
    assert len(lines) == 2 and len(bands) == 2
    # first-use review: differences of shares were labelled "%"; they are percentage points
    diff = figures.difference_frame(runs, "a", "b")
    share = diff[diff["metric"] == "hukou_share"].sort_values("year")
    assert lines[0]["y"] == pytest.approx((share["diff"] * 100).tolist())
    assert fig["layout"]["yaxis"]["ticksuffix"] == " pp" and "pp" in lines[0]["hovertext"][0]
    table = figures.compare_table(diff, "en")
    # numbers with their units beside them (first-use review: the CSV held "62.8%", "2.51 m")
    row = table[table["Metric"] == "Hukou share of residents"].iloc[0]
    assert row["Unit"] == "%" and row["Unit of the difference"] == "pp"
    assert row["Difference"] == pytest.approx(round(share["diff"].iloc[-1] * 100, 2))
    assert row["Reform"] == pytest.approx(round(share["reform"].iloc[-1] * 100, 2))
    assert all(isinstance(row[c], float) for c in ("Baseline", "Reform", "Difference", "95% CI low", "95% CI high"))
    import plotly.graph_objects as go

    go.Figure(fig)


def test_overview_figure_groups_regimes_with_error_bars_and_seed_dots() -> None:
    summary = pd.DataFrame([{"key": k, "city": c, "year": 2012.0, "metric": "hukou_share", "mean": m, "ci_low": m - .01,
                             "ci_high": m + .01, "n": 3} for k, m in (("a", .5), ("b", .4))
                            for c in ("shenzhen", "chengdu")])
    runs = pd.DataFrame([{"key": "a", "city": "shenzhen", "metric": "hukou_share", "value": .5, "replicate": 0}])
    fig = figures.overview_figure(summary, runs, {"a": "A", "b": "B"}, "hukou_share", 2012.0, "zh")
    bars = [tr for tr in fig["data"] if tr["type"] == "bar"]
    assert [b["name"] for b in bars] == ["A", "B"] and list(bars[0]["x"]) == ["深圳", "成都"]
    assert any(tr["type"] == "box" for tr in fig["data"])
    only_b = figures.overview_figure(summary, runs, {"b": "B"}, "hukou_share", 2012.0, "en")
    assert [tr["name"] for tr in only_b["data"] if tr["type"] == "bar"] == ["B"]
    import plotly.graph_objects as go

    go.Figure(fig)
    go.Figure(figures.empty_figure("nothing", "en"))
    totals = pd.DataFrame({"regime": ["a", "b"], "total": [97.0, 40.0], "threshold": [100.0, None]})
    go.Figure(figures.points_figure(totals, "zh"))


def test_map_figure_draws_every_district_with_a_boundary_and_marks_dapeng() -> None:
    districts = pd.DataFrame({"district": [440303, 440307, 440399], "district_name": ["Luohu", "Longgang", "Dapeng"],
                              "district_name_cn": ["罗湖区", "龙岗区", "大鹏新区"],
                              "zone": ["core", "outer_suburb", "exurb"],
                              "city": "shenzhen"})
    summary = pd.DataFrame([{"key": k, "district": d, "year": 2012.0, "metric": "migrants", "mean": v}
                            for k, base in (("a", 100.0), ("b", 50.0))
                            for d, v in zip(districts["district"], (base, base * 2, base * 3), strict=True)])
    frame = figures.map_frame(summary, districts, "migrants", 2012.0, "a", "b")
    assert list(frame["value"]) == [50.0, 100.0, 150.0]
    gj = geo.district_geojson((440303, 440307, 440399))
    assert [f["id"] for f in gj["features"]] == ["440303", "440307"]  # Dapeng has no polygon of its own
    fig = figures.map_figure(frame, gj, "migrants", "en", change=True, marker=geo.DAPENG_MARKER,
                             marker_adcode=geo.DAPENG_ADCODE)
    polygons = [tr for tr in fig["data"] if tr.get("fill") == "toself"]
    assert [tr["meta"] for tr in polygons] == [440303, 440307]
    dots = fig["data"][-1]
    assert len(dots["x"]) == 3 and "Dapeng" in dots["hovertext"][2] and dots["marker"]["symbol"][2] == "diamond"
    assert dots["marker"]["cmin"] == -dots["marker"]["cmax"]  # a change is centred on zero
    # first-use review: the fills used a scale plotly.js did not know ("RdBu_r"), so the bar contradicted them.
    # The bar's scale is explicit, and each fill is that scale's colour at the district's value; gains are blue.
    from plotly.colors import sample_colorscale, unlabel_rgb

    scale, low, high = dots["marker"]["colorscale"], dots["marker"]["cmin"], dots["marker"]["cmax"]
    assert isinstance(scale, list)
    for polygon, value in zip(polygons, (50.0, 100.0), strict=True):
        assert polygon["fillcolor"] == sample_colorscale(scale, [(value - low) / (high - low)])[0]
        red, _, blue = unlabel_rgb(polygon["fillcolor"])
        assert blue > red
    import plotly.graph_objects as go

    go.Figure(fig)  # a valid plotly figure (validated here, once, instead of on every request)


def test_dapeng_marker_is_inside_longgangs_boundary() -> None:
    longgang = geo.geometry_of(geo.LONGGANG_ADCODE)
    assert geo.point_in(longgang, *geo.DAPENG_MARKER)
    assert not geo.point_in(geo.geometry_of(440303), *geo.DAPENG_MARKER)


def test_every_modelled_district_but_dapeng_has_a_boundary() -> None:
    import csv
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "sim" / "data" / "districts.csv"
    with path.open(encoding="utf-8") as f:
        codes = [int(r["adcode"]) for r in csv.DictReader(f) if r["adcode"]]
    assert len(codes) == 40 and all(geo.geometry_of(c) is not None for c in codes)


def _report_rows() -> pd.DataFrame:
    """A small validation table: Shenzhen residents fitted in 2011 and 2012, held out at the 2020 census, and the
    initial census day; Chengdu registered held out in 2017."""
    rows = [("shenzhen", 2010.83, "residents", "initial", 10.0e6, 10.0e6, 9.9e6, 10.1e6, "sz_2010c"),
            ("shenzhen", 2011.0, "residents", "calibration", 10.5e6, 10.7e6, 10.6e6, 10.8e6, "sz_2011"),
            ("shenzhen", 2012.0, "residents", "calibration", 10.5e6, 11.0e6, 10.9e6, 11.1e6, "sz_2012"),
            ("shenzhen", 2020.83, "residents", "validation", 17.5e6, 12.5e6, 12.4e6, 12.6e6, "sz_2020c"),
            ("chengdu", 2017.0, "registered", "validation", 14.0e6, 14.7e6, 14.6e6, 14.8e6, "cd_2017")]
    frame = pd.DataFrame(rows, columns=["city", "year", "measure", "target_kind", "observed", "simulated_mean",
                                        "simulated_lo", "simulated_hi", "target_id"])
    frame["error"] = frame["simulated_mean"] - frame["observed"]
    frame["relative_error"] = frame["error"] / frame["observed"]
    frame["sigma_rel"] = 0.02
    frame["z"] = frame["relative_error"] / 0.02
    frame["inside_band"] = (frame["observed"] >= frame["simulated_lo"]) & (frame["observed"] <= frame["simulated_hi"])
    frame["runs"] = 2
    frame["comparison"] = "equal"
    frame["confidence"] = "high"
    frame["note"] = "<b>note</b>"
    frame["source"] = "test"
    return frame


def test_validation_figure_marks_the_fitted_and_the_held_out_points() -> None:
    table = _report_rows()
    fig = figures.validation_figure(table, "en")
    import plotly.graph_objects as go

    go.Figure(fig)  # a valid plotly figure
    named = {tr["name"]: tr for tr in fig["data"] if tr.get("showlegend")}
    assert set(named) == {"Simulated mean and seed band", "Observed: fitted (calibration)",
                          "Observed: held out (validation)", "Observed: initial state (matches by construction)"}
    symbols = {tr["name"]: tr["marker"]["symbol"] for tr in fig["data"] if tr.get("name", "").startswith("Observed")}
    assert len(set(symbols.values())) == 3  # each kind drawn differently
    titles = [a["text"] for a in fig["layout"]["annotations"]]
    assert titles == ["Shenzhen · Residents", "Chengdu · Registered (hukou) population"]
    band = next(tr for tr in fig["data"] if tr.get("fill") == "toself")  # Shenzhen: four dates, a band
    assert band["xaxis"] == "x" and band["y"][:4] == [10.1e6, 10.8e6, 11.1e6, 12.6e6]
    fitted = [tr for tr in fig["data"] if tr.get("name") == "Observed: fitted (calibration)"]
    assert fitted[0]["x"] == [2011.0, 2012.0] and fitted[0]["y"] == [10.5e6, 10.5e6]
    held = [tr for tr in fig["data"] if tr.get("name") == "Observed: held out (validation)"]
    assert [tr["xaxis"] for tr in held] == ["x", "x2"] and "−28.6%" in held[0]["hovertext"][0]
    single = [tr for tr in fig["data"] if tr.get("xaxis") == "x2" and tr.get("legendgroup") == "simulated"]
    assert len(single) == 1 and single[0]["error_y"]["array"] == [pytest.approx(0.1e6)]  # one point: error bar
    zh = figures.validation_figure(figures.validation_filter(table, "chengdu", "all"), "zh")
    assert [a["text"] for a in zh["layout"]["annotations"]] == ["成都 · 户籍人口"]
    empty = figures.validation_figure(table.iloc[0:0], "en")
    assert empty["layout"]["annotations"][0]["text"] == "No data for this choice."


def test_validation_headline_and_tables_come_from_the_report() -> None:
    table = _report_rows()
    summary = figures.validation_summary(table)
    assert list(summary["target_kind"]) == ["calibration", "validation", "initial"]
    fitted = summary.iloc[0]
    assert fitted["n"] == 2 and fitted["median_abs_rel_error"] == pytest.approx((0.2 / 10.5 + 0.5 / 10.5) / 2)
    lines = figures.validation_headline(table, "en")
    assert lines[0].startswith("Fitted (calibration), 2 targets: median absolute relative error 3.3%")
    assert lines[-1] == "Held-out 2020 census, residents, simulated against observed: Shenzhen −28.6%."
    shown = figures.validation_table(figures.validation_filter(table, "shenzhen", "validation"), "zh")
    assert len(shown) == 1 and shown.iloc[0]["目标类型"] == "留出（验证）" and shown.iloc[0]["相对误差（%）"] == -28.57
    assert shown.iloc[0]["单位"] == "人" and shown.iloc[0]["观测值"] == 17.5e6
    assert shown.iloc[0]["年份"] == "2020.83" and shown.iloc[0]["说明"] == "<b>note</b>"  # text, never rendered
    assert list(figures.validation_summary_table(table, "en")["Targets"]) == [2, 2, 1]


def test_shipped_report_headline_is_the_documented_one() -> None:
    """docs/validation.md: fitted targets about 5% off; the held-out 2020 census within 2% in each city."""
    from dashboard.data import SHIPPED_REPORT

    table = pd.read_parquet(SHIPPED_REPORT / "validation_table.parquet")
    summary = figures.validation_summary(table).set_index("target_kind")
    assert summary.loc["calibration", "median_abs_rel_error"] == pytest.approx(0.0526, abs=5e-4)
    assert summary.loc["calibration", "n"] == 56 and summary.loc["validation", "n"] == 56
    assert figures.validation_headline(table, "en")[-1] == ("Held-out 2020 census, residents, simulated against "
                                                            "observed: Shenzhen +1.9%, Guangzhou +1.3%, "
                                                            "Chengdu −1.6%.")


def test_both_languages_have_every_label() -> None:
    assert set(i18n.LABELS["en"]) == set(i18n.LABELS["zh"])


def test_every_city_zone_and_metric_has_a_name_in_both_languages() -> None:
    """The lists of sim.metrics, policies.cities and sim.geography are what the menus show: none shows a raw key."""
    from policies.cities import CITIES
    from sim.geography import ZONES
    from sim.metrics import CITY_METRICS, DISTRICT_METRICS

    for lang in i18n.LANGS:
        assert all(i18n.city_label(c, lang) != c for c in CITIES), lang
        assert all(i18n.zone_label(z, lang) != z for z in ZONES), lang
        assert all(i18n.metric_label(m, lang) != m for m in CITY_METRICS + DISTRICT_METRICS), lang


@pytest.mark.parametrize(("value", "lang", "text"), [(12_345_678, "en", "12.35 m"), (12_345_678, "zh", "1,234.6万"),
                                                      (234_000_000, "zh", "2.34亿"), (1234, "en", "1,234"),
                                                      (float("nan"), "en", "–")])
def test_numbers_are_formatted_for_each_language(value: float, lang: str, text: str) -> None:
    assert i18n.fmt_number(value, lang) == text


def test_share_and_years_formats() -> None:
    assert i18n.fmt_value("hukou_share", 0.1234, "zh") == "12.3%"
    assert i18n.fmt_value("time_to_hukou_years", 6.25, "zh") == "6.2 年"


def test_census_days_read_as_dates_and_no_value_shows_a_negative_zero(results_root: Path) -> None:
    """First-use review: years shown as 2010.83, and "-0.0 y" for a difference that rounds to nothing."""
    from dashboard.controls import year_options
    from dashboard.data import Registry
    from dashboard.i18n import fmt_share, fmt_value

    labels = [o["label"] for o in year_options(Registry(results_root).get("dash_fixture"))]
    assert "2010-11-01" in labels and "2013" in labels and not [x for x in labels if "." in x]
    assert fmt_value("time_to_hukou_years", -0.04, "en") == "0.0 y" and fmt_share(-0.0004, "zh") == "0.0%"
    assert fmt_value("time_to_hukou_years", -0.06, "en") == "-0.1 y"
