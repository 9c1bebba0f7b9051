"""Figures are pure functions of frames: small hand-made frames in, traces out; labels in both languages."""

from __future__ import annotations

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


def test_validation_frame_matches_census_days_and_year_ends() -> None:
    sim = pd.DataFrame([{"city": "shenzhen", "year": 2010.83, "metric": "residents", "mean": 11e6, "ci_low": 1,
                         "ci_high": 2}])
    obs = pd.DataFrame([{"city": "shenzhen", "year": 2010.83, "measure": "residents", "value": 10e6,
                         "definition": "census", "source": "s", "confidence": "high"}])
    frame = figures.validation_frame(sim, obs)
    assert frame["error"].iloc[0] == pytest.approx(0.1)
    import plotly.graph_objects as go

    fig = figures.validation_figure(sim.assign(year=2011.0), obs, "en")
    go.Figure(fig)
    assert [tr.get("name") for tr in fig["data"] if tr.get("mode")] == ["Simulated", "Observed"]


def test_both_languages_have_every_label() -> None:
    assert set(i18n.LABELS["en"]) == set(i18n.LABELS["zh"])


@pytest.mark.parametrize(("value", "lang", "text"), [(12_345_678, "en", "12.35 m"), (12_345_678, "zh", "1,234.6万"),
                                                      (234_000_000, "zh", "2.34亿"), (1234, "en", "1,234"),
                                                      (float("nan"), "en", "–")])
def test_numbers_are_formatted_for_each_language(value: float, lang: str, text: str) -> None:
    assert i18n.fmt_number(value, lang) == text


def test_share_and_years_formats() -> None:
    assert i18n.fmt_value("hukou_share", 0.1234, "zh") == "12.3%"
    assert i18n.fmt_value("time_to_hukou_years", 6.25, "zh") == "6.2 年"
