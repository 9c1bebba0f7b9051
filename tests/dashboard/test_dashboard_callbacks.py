"""Callbacks called directly (as Dash would, with the values of their inputs), and layouts from query strings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import dashboard
from dashboard.data import UnknownExperiment, UnknownReport, registry


def _keys() -> dict[str, str]:
    frame = registry().get("dash_fixture").scenarios()
    return dict(zip(frame["regimes"], frame["key"], strict=True))


def test_overview_follows_the_chosen_regimes(pages: dict[str, Any]) -> None:
    keys = _keys()
    both = pages["overview"].update("dash_fixture", list(keys.values()), "hukou_share", 2013.0, "all", "en")
    one = pages["overview"].update("dash_fixture", [keys["talent_only"]], "hukou_share", 2013.0, "shenzhen", "zh")
    # each regime by its name in the reader's language, not its identifier (historical, talent_only)
    assert [t["name"] for t in both[0]["data"] if t["type"] == "bar"] == ["The historical rules", "Talent only"]
    assert [t["name"] for t in one[0]["data"] if t["type"] == "bar"] == ["仅限人才"]
    assert list(one[0]["data"][0]["x"]) == ["深圳"]
    assert len(one[1]) == 7 and "常住人口户籍比例" in {row["指标"] for row in one[1]}


def test_tables_hold_numbers_with_units_and_download_under_the_view_s_name(pages: dict[str, Any]) -> None:
    """First-use review: every export was ``Data.csv`` and held text such as "2.51 m" and "62.8%"."""
    keys = _keys()
    fig, rows, columns, export, _ = pages["overview"].update("dash_fixture", list(keys.values()), "hukou_share", 2013.0,
                                                          "shenzhen", "en")
    assert export == {"fileName": "hukou-overview-dash_fixture-headline_metrics-2013-shenzhen-en.csv"}
    share = next(r for r in rows if r["Metric"] == "Hukou share of residents" and r["Regime"] == "The historical rules")
    bar = next(tr for tr in fig["data"] if tr["type"] == "bar" and tr["name"] == "The historical rules")
    assert share["Unit"] == "%" and share["Mean"] == pytest.approx(round(bar["y"][0] * 100, 2), abs=0.01)
    assert isinstance(share["95% CI low"], float) and isinstance(share["n"], int)
    numeric = {c["field"] for c in columns if c.get("type") == "numericColumn"}
    assert numeric == {"Mean", "95% CI low", "95% CI high", "n"}
    assert all(c["useValueFormatterForExport"] is False for c in columns if c["field"] in numeric)
    *_, export, _, _ = pages["compare"].update("dash_fixture", keys["historical"], keys["talent_only"], "chengdu",
                                             "zones", "zh")
    assert export["fileName"] == f"hukou-compare-dash_fixture-{keys['talent_only']}_minus_{keys['historical']}" \
                                 "-chengdu-zones-zh.csv"


def test_overview_layout_reopens_the_view_of_its_query(pages: dict[str, Any]) -> None:
    keys = _keys()
    page = pages["overview"].layout(exp="dash_fixture", regimes=keys["talent_only"], metric="school_access",
                                    year="2012", city="chengdu", lang="zh")
    text = str(page)
    assert f"value=['{keys['talent_only']}']" in text and "value='school_access'" in text
    assert "value=2012.0" in text and "value='chengdu'" in text and "概览" in text


def test_compare_differences_are_reform_minus_baseline(pages: dict[str, Any]) -> None:
    keys = _keys()
    diff = pages["compare"].differences("dash_fixture", keys["historical"], keys["talent_only"], "guangzhou", "city")
    row = diff[(diff["metric"] == "hukou_share") & (diff["year"] == 2013.0)].iloc[0]
    assert row["diff"] == pytest.approx(row["reform"] - row["baseline"])
    figure, data, columns, export, message, _ = pages["compare"].update("dash_fixture", keys["historical"],
                                                                     keys["talent_only"], "guangzhou", "zones", "en")
    assert message is None and len(figure["data"]) > 10 and data
    zones = pages["compare"].differences("dash_fixture", keys["historical"], keys["talent_only"], "chengdu", "zones")
    districts = registry().get("dash_fixture").districts()
    assert set(zones["zone"]) == set(districts[districts["city"] == "chengdu"]["zone"]) and len(set(zones["zone"])) > 1


def test_a_substituted_pair_or_experiment_is_said_not_drawn_silently(pages: dict[str, Any]) -> None:
    """First-use review: baseline = reform plotted another pair, and an unknown experiment in a link showed the
    default one, both without a word."""
    keys = _keys()
    *_, message, _ = pages["compare"].update("dash_fixture", keys["historical"], keys["historical"], "guangzhou",
                                             "city", "en")
    assert message is not None and "showing Talent only against The historical rules" in str(message)
    page = str(pages["overview"].layout(exp="no_such_sweep", lang="en"))
    assert "experiment-substituted" in page and "no experiment 'no_such_sweep' here: showing dash_fixture" in page
    assert "experiment-substituted" not in str(pages["overview"].layout(exp="dash_fixture", lang="en"))


def test_map_view_colours_every_district_of_the_city(pages: dict[str, Any]) -> None:
    keys = _keys()
    fig = pages["map"].map_view("dash_fixture", keys["historical"], "level", keys["historical"], "migrants", 2013.0,
                                "chengdu", "en")
    assert len([tr for tr in fig["data"] if tr.get("fill") == "toself"]) == 20 and len(fig["data"][-1]["x"]) == 20
    fig = pages["map"].map_view("dash_fixture", keys["talent_only"], "change", keys["historical"], "residents",
                                2013.0, "shenzhen", "zh")
    assert len([tr for tr in fig["data"] if tr.get("fill") == "toself"]) == 9  # ten districts: Dapeng a marker
    assert len(fig["data"][-1]["x"]) == 10 and any("440399" in h for h in fig["data"][-1]["hovertext"])


def test_points_calculator_matches_the_worked_case(pages: dict[str, Any]) -> None:
    """policies/points/cases/shenzhen_2017.yaml: part-time bachelor, 36 months pension and medical → 97 points."""
    calc = pages["calculator"]
    values = dict(calc.DEFAULTS, date="2017-06-01", age=30, education="bachelor", full_time_degree=False, pension=36,
                  medical=36, unemployment=0, work_injury=0, maternity=0, home_district=440306, work_district=440306)
    totals, parts, channels, city = calc.calculate_all(values, "en")
    assert city == "shenzhen"
    assert totals.set_index("regime").loc["shenzhen", "total"] == 97
    assert {"education_skill", "social_insurance", "age"} <= set(parts["Indicator"])
    assert (parts["Article"] != "").all() and len(channels)
    out = calc.update(1, *[values[f] for f in calc.FIELDS], "en")
    assert "97" in str(out[1]) and out[-1] is None
    assert "hukou points --regime shenzhen --date 2017-06-01" in out[-2]
    assert out[4] == {"fileName": "hukou-points-shenzhen-2017-06-01-breakdown-en.csv"}
    assert out[7] == {"fileName": "hukou-points-shenzhen-2017-06-01-channels-en.csv"}
    assert {row["Points"] for row in out[2]} >= {80.0}  # numbers, not text


def test_the_calculator_names_regimes_in_the_reader_s_language(pages: dict[str, Any]) -> None:
    """First-use review: Chinese mode left regime names in English (``talent_only``) in the calculator's tables."""
    calc = pages["calculator"]
    values = dict(calc.DEFAULTS, date="2017-06-01", home_district=440306, work_district=440306)
    for lang, expected in (("zh", {"深圳", "仅限人才", "放开落户", "严格控制"}),
                           ("en", {"Shenzhen", "Talent only", "Open registration", "Strict control"})):
        _, parts, channels, _ = calc.calculate_all(values, lang)
        assert set(parts.iloc[:, 0]) == set(channels.iloc[:, 0]) == expected


def test_the_builder_offers_regimes_by_name(pages: dict[str, Any]) -> None:
    """The starting regime is chosen by its name in the reader's language, not its identifier."""
    en, zh = str(pages["scenarios"].layout(lang="en")), str(pages["scenarios"].layout(lang="zh"))
    assert "'label': 'Talent only', 'value': 'talent_only'" in en and "'label': 'talent_only'" not in en
    assert "'label': '仅限人才', 'value': 'talent_only'" in zh and "'label': '历史政策', 'value': 'historical'" in zh


def test_calculator_page_says_a_closed_route_assumed_scoring_and_takes_a_registered_lease(
        pages: dict[str, Any]) -> None:
    """First-use review: no registered-lease option (every renter: "no stable home"), 106 beside a line of 100
    while the points route was closed, "family_channel: yes" for a single person, assumptions only in the citation
    column."""
    calc = pages["calculator"]
    values = dict(calc.DEFAULTS, date="2025-06-01", age=30, education="bachelor", full_time_degree=True,
                  employed=True, pension=36, medical=36, unemployment=36, work_injury=36, maternity=36,
                  home_district=440306, work_district=440306)
    renter = calc.update(1, *[values[f] for f in calc.FIELDS], "en")
    leased = calc.update(1, *[dict(values, registered_lease=True)[f] for f in calc.FIELDS], "en")
    text = str(renter[1])
    assert "Reaches the points line, but the points route is closed: no stable home" in text
    assert "the line of the rules" in text and "Can settle now through: talent." in text
    assert "Reaches the points line, and the points route is open" in str(leased[1])
    assert "Can settle now through: talent, points." in str(leased[1])
    family = [r for r in renter[5] if r["Channel"] == "family_channel"]
    assert family and all(r["Eligible"] == "no" and "no spouse, parent or child" in r["Why not"] for r in family)
    married = calc.update(1, *[dict(values, family_hukou_member=True)[f] for f in calc.FIELDS], "en")
    assert {r["Eligible"] for r in married[5] if r["Channel"] == "family_channel"} == {"yes"}
    gz = calc.update(1, *[dict(values, home_district=440106, work_district=440106)[f] for f in calc.FIELDS], "zh")
    assert "项指标中有" in str(gz[1]) and "calc-assumed" in str(gz[1])
    basis = {r["依据"] for r in gz[2]}
    assert basis == {"假设", "有条文"} or basis == {"假设"}
    columns = [c["field"] for c in gz[3]]
    assert columns.index("依据") == columns.index("分值") + 1  # beside the number, not only in the article column
    page = str(calc.layout(lang="en", registered_lease="true"))
    assert "calc-registered_lease" in page and "深府〔2016〕59号" in page


@pytest.mark.parametrize(("field", "value"), [("date", "2017-13-45"), ("age", -3), ("education", "<b>phd</b>"),
                                              ("home_district", 999999), ("pension", "x" * 10_000)])
def test_points_calculator_names_a_bad_field(pages: dict[str, Any], field: str, value: Any) -> None:
    calc = pages["calculator"]
    values = dict(calc.DEFAULTS, **{field: value})
    if field == "home_district":  # neither home nor work in a modelled city
        values["work_district"] = value
    out = calc.update(1, *[values[f] for f in calc.FIELDS], "en")
    assert "Invalid input" in str(out[-1])


def test_forged_experiment_identifiers_raise_the_shown_error(pages: dict[str, Any]) -> None:
    for ident in ("../dash_fixture", "/etc", {"x": 1}, "a" * 10_000):
        with pytest.raises(UnknownExperiment):
            pages["overview"].update(ident, None, "hukou_share", 2013.0, "all", "en")


def test_unknown_values_fall_back_to_what_the_page_offers(pages: dict[str, Any]) -> None:
    fig, data, *_ = pages["overview"].update("dash_fixture", ["nope", 7], "DROP TABLE", "2099", "<city>", "en")
    assert [t["name"] for t in fig["data"] if t["type"] == "bar"] == ["The historical rules", "Talent only"]
    assert data  # the last year, all cities, hukou share


def test_validation_shows_the_report_filtered_by_city_and_kind(pages: dict[str, Any]) -> None:
    val = pages["validation"]
    figure, data, columns, export, headline, manifest = val.update("shipped", "guangzhou", "validation", "en")
    assert data and {row["City"] for row in data} == {"Guangzhou"}
    assert {row["Target kind"] for row in data} == {"held out (validation)"}
    assert {c["headerName"] for c in columns} >= {"Relative error (%)", "z", "Inside the band", "Observed",
                                                  "Simulated mean", "Unit"}
    # the shipped report's own numbers (regenerated with the model: read here, not copied into the test)
    table = pd.read_parquet(Path(dashboard.__file__).parent / "validation_report" / "validation_table.parquet")
    fitted = table[table["target_kind"] == "calibration"]["relative_error"].abs().median()
    census_2020 = table[table["measure"].eq("residents") & table["target_id"].str.endswith("_residents_2020c")]
    misses = {r.city: f"{100 * r.relative_error:+.1f}%".replace("-", "−") for r in census_2020.itertuples()}
    census = next(row for row in data if row["Target"] == "guangzhou_residents_2020c")
    assert census["Relative error (%)"] == pytest.approx(
        100 * census_2020.set_index("city").loc["guangzhou", "relative_error"], abs=0.05)
    assert census["Inside the band"] == "no"
    assert export == {"fileName": "hukou-validation-shipped-targets-guangzhou-validation-en.csv"}
    assert {tr["name"] for tr in figure["data"] if tr.get("showlegend")} == {
        "Simulated mean and seed band", "Observed: held out (validation)"}
    text = str(headline)  # the whole report's headline, whatever the filters
    assert f"Fitted (calibration), 56 targets: median absolute relative error {100 * fitted:.1f}%" in text
    assert f"Shenzhen {misses['shenzhen']}, Guangzhou {misses['guangzhou']}, Chengdu {misses['chengdu']}" in text
    assert "hukou validate --out DIR --seeds 5 --scale 1000 --end 2022" in str(manifest)
    _, every, *_ = val.update("shipped", "all", "all", "zh")
    assert len(every) == 122 and {row["城市"] for row in every} == {"深圳", "广州", "成都"}
    _, forged, *_ = val.update("shipped", "<b>", ["x"] * 3, "xx")  # unknown values: every row
    assert len(forged) == 122
    for ident in ("../shipped", "/etc/passwd", {"a": 1}, "x" * 10_000):
        with pytest.raises(UnknownReport):
            val.update(ident, "all", "all", "en")


def test_validation_layout_reopens_the_view_of_its_query(pages: dict[str, Any]) -> None:
    text = str(pages["validation"].layout(report="shipped", city="chengdu", kind="calibration", exp="dash_fixture",
                                          lang="zh"))
    assert "value='shipped'" in text and "value='chengdu'" in text and "value='calibration'" in text
    assert "验证" in text and "exp=dash_fixture" in text  # navigation keeps the experiment
    text = str(pages["validation"].layout(report="../../etc", city="<script>", kind="DROP"))
    assert "value='shipped'" in text and "value='all'" in text and "<script>" not in text


def test_scenario_builder_runs_a_short_sweep_and_links_the_comparison(pages: dict[str, Any]) -> None:
    progress: list[Any] = []
    values = {"base": "historical", "city": "chengdu", "quota_factor": 3.0, "min_score_shift": 0, "indicator": None,
              "indicator_factor": 1, "district_bonus_factor": 1, "talent_age_shift": 0,
              "name": "<img src=x onerror=alert(1)>", "end": 2012, "replications": 1, "scale": 100000}
    result = pages["scenarios"].run_scenario(progress.append, values, "en")
    text = str(result)
    assert "sb-compare-link" in text and progress[-1][0] == 100
    href = result.children[1].href
    assert href.startswith("/compare?exp=scenario-img-src-x-onerror-alert-1-")
    assert "<img src=x onerror=alert(1)>" in str(result.children[0])  # as text: Dash renders strings inert
    # first-use review: the comparison opened on Shenzhen whatever the lever touched; the name became an id
    assert "city=chengdu" in href and "(Chengdu)" in str(result.children[1].children)
    ident = href.split("exp=")[1].split("&")[0]
    experiment = registry().get(ident)
    assert experiment.custom and experiment.folder.parent == registry().scenarios_dir
    assert experiment.title == values["name"]
    assert f"{values['name']} ({ident})" in {o["label"] for o in pages["compare"].experiment_options()}
    assert set(pages["compare"].labels_of(experiment, experiment.scenario_keys()).values()) == {
        "The historical rules", values["name"]}
    page = str(pages["scenarios"].layout(lang="en"))
    assert "sb-saved" in page and ident in page and "city=chengdu" in page  # listed, with its comparison
    for quota in ("lots", None, 20):  # a browser sends no value for a number outside the input's range
        bad = pages["scenarios"].run_scenario(progress.append, dict(values, quota_factor=quota), "en")
        assert "Points-round quota (× as written): must be a number from 0 to 10" in str(bad)
    bad = pages["scenarios"].run_scenario(progress.append, dict(values, end=2060), "zh")
    assert "结束年份：应为2011至2035之间的数" in str(bad).replace(": ", "：")
    bad = pages["scenarios"].run_scenario(progress.append, dict(values, city="shenzhen", base="chengdu"), "en")
    assert "City the levers act on: the levers act on one city of chengdu: chengdu" in str(bad)


def test_metrics_whose_meaning_shifts_say_so_beside_the_chart(pages: dict[str, Any]) -> None:
    """First-use review: school access fell under open registration only because it counts the children of
    unsettled migrants; in zone view "suburban dispersion" silently became the zone's share; a points cut-off of 21
    beside the calculator's line of 100; counts without "per year". Said in both languages."""
    keys = _keys()
    *_, notes = pages["overview"].update("dash_fixture", list(keys.values()), "points_cutoff", 2013.0, "all", "en")
    text = " ".join(str(n.children) for n in notes)
    assert text.index("Points cut-off: the lowest points total") < text.index("only the children of migrants who "
                                                                              "have not settled")
    assert "not the line of the rules" in text
    figure, rows, _, _, _, notes = pages["compare"].update("dash_fixture", keys["historical"], keys["talent_only"],
                                                           "guangzhou", "zones", "zh")
    titles = [a["text"] for a in figure["layout"]["annotations"]]
    assert "该圈层占全市外来人口的比例" in titles and "落户：全部渠道（每年）" in titles
    assert "各圈层占全市外来人口的比例" in " ".join(str(n.children) for n in notes)
    assert {r["指标"] for r in rows} >= {"该圈层占全市外来人口的比例", "落户：全部渠道（每年）"}
    city_view = pages["compare"].update("dash_fixture", keys["historical"], keys["talent_only"], "guangzhou", "city",
                                        "en")
    titles = [a["text"] for a in city_view[0]["layout"]["annotations"]]
    assert "Suburban dispersion (migrants)" in titles and "Settlements: all channels (per year)" in titles
    assert "outside its core districts" in " ".join(str(n.children) for n in city_view[-1])
    from dashboard.i18n import _CAVEATS, _ZONE_CAVEATS, metric_label

    assert metric_label("arrivals", "en") == "Arrivals (per year)" and metric_label("migrants", "en").find("year") < 0
    assert all(en and zh and en != zh for en, zh in [*_CAVEATS.values(), *_ZONE_CAVEATS.values()])
