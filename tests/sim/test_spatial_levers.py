"""Spatial levers as located, dated mechanisms: jobs moved (not deleted), metro openings on their dates and in their
districts, redevelopment only where and when it happened (sim.phases.markets.apply_levers)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from policies.decision import Lever
from policies.errors import InputError
from policies.mechanisms import MECHANISMS, variants_of
from policies.regime import CITIES
from policies.spatial_levers import rules
from sim.config import RunConfig, load_config
from sim.geography import load_geography
from sim.model import HukouModel
from sim.phases.markets import apply_levers

GZ_CORE = (440103, 440104, 440105, 440106)
GZ_OUTER = (440111, 440112, 440113, 440114, 440115, 440117, 440118)


def _model(levers: list[Lever], city: str, date: dt.date, months: int = 3) -> SimpleNamespace:
    """The parts of a model apply_levers reads: district state, geography, date and one government."""
    geo = load_geography()
    rng = np.random.default_rng(0)
    state = SimpleNamespace(housing_stock=rng.uniform(1e5, 1e6, geo.n), jobs=rng.uniform(1e4, 1e5, (geo.n, 3)),
                            commute=np.full(geo.n, 0.8), school_places=rng.uniform(1e3, 1e4, geo.n))
    gov = SimpleNamespace(city_index=CITIES.index(city), levers=lambda: levers, regime=SimpleNamespace(name=city))
    return SimpleNamespace(district_state=state, geography=geo, governments=[gov], date=date, step_months=months)


def _idx(model: SimpleNamespace, adcodes: tuple[int, ...]) -> np.ndarray:
    return model.geography.index_of_adcode(np.asarray(adcodes, dtype=np.int32))


def test_moving_jobs_keeps_the_city_total_and_moves_them_from_the_named_districts() -> None:
    """穗府〔2018〕14号 三（一）2: low-skill jobs leave the core for the periphery; the city keeps them all."""
    lever = Lever(kind="move_low_skill_jobs", districts=GZ_CORE, annual_change=0.03, start_year=2018, end_year=2022,
                  ref="test", to_districts=GZ_OUTER, out_of_city_share=0.0, weights="jobs")
    model = _model([lever], "guangzhou", dt.date(2019, 1, 1))
    before = model.district_state.jobs.copy()
    apply_levers(model)
    after = model.district_state.jobs
    gz = model.geography.city == CITIES.index("guangzhou")
    core, outer = _idx(model, GZ_CORE), _idx(model, GZ_OUTER)
    assert after[gz, 0].sum() == pytest.approx(before[gz, 0].sum(), rel=1e-12)
    assert (after[core, 0] < before[core, 0]).all() and (after[outer, 0] > before[outer, 0]).all()
    np.testing.assert_allclose(after[core, 0], before[core, 0] * 0.97 ** 0.25)
    gained = after[outer, 0] - before[outer, 0]            # shared in proportion to the destinations' jobs
    np.testing.assert_allclose(gained / gained.sum(), before[outer, 0] / before[outer, 0].sum())
    np.testing.assert_array_equal(after[~gz], before[~gz])  # other cities and other tiers untouched
    np.testing.assert_array_equal(after[:, 1:], before[:, 1:])


def test_moving_jobs_out_of_the_city_removes_only_the_stated_share() -> None:
    """深府〔2016〕58号 （四） 双转移: the share said to leave the city leaves; the rest stays in the destinations."""
    sz = (440303, 440304)
    lever = Lever(kind="move_low_skill_jobs", districts=sz, annual_change=0.1, start_year=2016, end_year=2020,
                  ref="test", to_districts=(440310,), out_of_city_share=0.25, weights="equal")
    model = _model([lever], "shenzhen", dt.date(2017, 1, 1), months=12)
    before = model.district_state.jobs[:, 0].copy()
    apply_levers(model)
    moved = before[_idx(model, sz)].sum() * 0.1
    city = model.geography.city == CITIES.index("shenzhen")
    assert model.district_state.jobs[city, 0].sum() == pytest.approx(before[city].sum() - 0.25 * moved)


def test_metro_opening_lowers_commute_only_in_its_districts_from_its_date() -> None:
    """A line lowers the commuting index of the districts it serves, once, in the step containing its opening."""
    lever = Lever(kind="metro_opening", districts=(440114, 440111), annual_change=-0.1, start_year=2017,
                  end_year=2017, ref="test", on=dt.date(2017, 12, 28), floor=0.1)
    served = None
    for date, expected in ((dt.date(2017, 7, 1), 0.8), (dt.date(2017, 10, 1), 0.7), (dt.date(2018, 1, 1), 0.7)):
        model = _model([lever], "guangzhou", date) if served is None else served
        model.date = date
        apply_levers(model)
        served = model
        commute = model.district_state.commute
        np.testing.assert_allclose(commute[_idx(model, (440114, 440111))], expected)
        others = np.setdiff1d(np.arange(model.geography.n), _idx(model, (440114, 440111)))
        np.testing.assert_allclose(commute[others], 0.8)


def test_metro_opening_stops_at_the_floor() -> None:
    """An opening brings no district below the floor, and never raises one already below it."""
    lever = Lever(kind="metro_opening", districts=(440303, 440304), annual_change=-0.5, start_year=2016,
                  end_year=2016, ref="test", on=dt.date(2016, 10, 28), floor=0.1)
    model = _model([lever], "shenzhen", dt.date(2016, 10, 1))
    model.district_state.commute[_idx(model, (440304,))] = 0.05
    apply_levers(model)
    np.testing.assert_allclose(model.district_state.commute[_idx(model, (440303, 440304))], [0.3, 0.05])


def test_redevelopment_cuts_housing_only_in_its_districts_and_years() -> None:
    """Urban renewal removes housing where and when it happened; a clearance removes its persons once."""
    renewal = Lever(kind="housing", districts=(440303,), annual_change=-0.01, start_year=2010, end_year=2016,
                    ref="test")
    clearance = Lever(kind="remove_housing", districts=(440305,), annual_change=0.0, start_year=2019,
                      end_year=2019, ref="test", on=dt.date(2019, 7, 1), persons=50_000)
    for date, luohu_cut, nanshan_cut in ((dt.date(2012, 1, 1), True, False), (dt.date(2017, 1, 1), False, False),
                                         (dt.date(2019, 7, 1), False, True), (dt.date(2019, 10, 1), False, False)):
        model = _model([renewal, clearance], "shenzhen", date)
        before = model.district_state.housing_stock.copy()
        apply_levers(model)
        after = model.district_state.housing_stock
        luohu, nanshan = _idx(model, (440303,))[0], _idx(model, (440305,))[0]
        assert (after[luohu] < before[luohu]) == luohu_cut, date
        assert after[nanshan] == pytest.approx(before[nanshan] - 50_000 * nanshan_cut), date
        rest = np.setdiff1d(np.arange(model.geography.n), [luohu, nanshan])
        np.testing.assert_array_equal(after[rest], before[rest])


def test_metro_table_rows_are_dated_located_and_sourced() -> None:
    """Every opening of metro_lines.csv has a date in 2010-2023, districts of its city and a source."""
    rows = rules.metro_openings()
    assert {r[0] for r in rows} == {"shenzhen", "guangzhou", "chengdu"}
    prefix = {"shenzhen": 4403, "guangzhou": 4401, "chengdu": 5101}
    for city, _line, _segment, opened, districts, source in rows:
        assert dt.date(2010, 1, 1) <= opened <= dt.date(2023, 12, 31) and source
        assert all(d // 100 == prefix[city] for d in districts)


def test_guangzhou_metro_lever_becomes_its_openings() -> None:
    """穗府〔2018〕14号 三（一）4: the guangzhou_2018 metro parameter is the openings of 2018-2023, each on its date."""
    params = variants_of("spatial_levers")["guangzhou_2018"].at(dt.date(2019, 1, 1))
    metro = [lv for lv in MECHANISMS["spatial_levers"].levers(params) if lv.kind == "metro_opening"]
    assert metro and all(lv.on is not None and 2018 <= lv.on.year <= 2023 for lv in metro)
    assert {440117, 440118} <= {d for lv in metro for d in lv.districts}  # Conghua's and Zengcheng's lines


def test_chengdu_directions_differ() -> None:
    """东进/南拓 grow housing and jobs; 西控 holds housing and industry back (成府发〔2017〕23号 三（一）3)."""
    params = variants_of("spatial_levers")["chengdu_2018"].at(dt.date(2019, 1, 1))
    levers = {name: MECHANISMS["spatial_levers"].levers({name: spec})[0] for name, spec in params.items()}
    assert levers["east_housing"].annual_change > 0 and levers["south_housing"].annual_change > 0
    assert levers["west_control_housing"].annual_change < 0 and levers["west_control_industry"].annual_change < 0
    assert not set(levers["east_housing"].districts) & set(levers["west_control_housing"].districts)


@pytest.mark.parametrize(("spec", "message"), [
    ({"kind": "teleport"}, "spatial_levers.bad.kind: unknown kind 'teleport'"),
    ({"kind": "move_low_skill_jobs", "from": [440103], "to": [440303], "annual_share": 0.1,
      "out_of_city_share": 0.0, "weights": "jobs", "start_year": 2018, "end_year": 2020, "article": "x"},
     "spatial_levers.bad.to: districts of more than one city"),
    ({"kind": "move_low_skill_jobs", "from": [440103], "to": [], "annual_share": 0.1,
      "out_of_city_share": 0.5, "weights": "jobs", "start_year": 2018, "end_year": 2020, "article": "x"},
     "spatial_levers.bad.to: names no district"),
    ({"kind": "remove_housing", "districts": [440305], "persons": 10, "on": "mid-2019", "article": "x"},
     "spatial_levers.bad.on: a date"),
    ({"kind": "metro", "city": "wuhan", "per_opening": -0.1, "floor": 0.1, "start_year": 2010, "end_year": 2012,
      "article": "x"}, "spatial_levers.bad.city: unknown city 'wuhan'"),
    ({"kind": "new_area", "districts": [440305], "housing": 1000, "jobs": 10, "job_tiers": [0.5, 0.5, 0.5],
      "start_year": 2014, "end_year": 2020, "article": "x"}, "spatial_levers.bad.job_tiers: shares sum to 1.5"),
    ({"kind": "new_area", "districts": [440305, 440115], "housing": 1000, "jobs": 10, "job_tiers": [0, 0, 1],
      "start_year": 2014, "end_year": 2020, "article": "x"}, "spatial_levers.bad.districts: districts of more"),
])
def test_bad_levers_are_refused_in_one_line(spec: dict, message: str) -> None:
    """A malformed lever names its parameter and field."""
    with pytest.raises(InputError, match=message.replace("(", r"\(")) as err:
        rules.levers({"bad": spec})
    assert "\n" not in str(err.value)


def _new_area(start: int, end: int, housing: float, jobs: float) -> Lever:
    return Lever(kind="new_area", districts=(440305,), annual_change=0.0, start_year=start, end_year=end,
                 ref="test", persons=housing, jobs=jobs, job_tiers=(0.2, 0.4, 0.4))


def test_new_area_adds_its_housing_and_jobs_in_its_build_out_years_only() -> None:
    """前海: a new area's land enters in equal yearly parts over its build-out, in its district only, and the same
    absolute amount whatever the district's stock (new land in a built-up core district)."""
    lever = _new_area(2014, 2017, housing=400_000, jobs=200_000)
    for date, inside in ((dt.date(2013, 10, 1), False), (dt.date(2014, 1, 1), True), (dt.date(2017, 10, 1), True),
                         (dt.date(2018, 1, 1), False)):
        model = _model([lever], "shenzhen", date)
        housing, jobs = model.district_state.housing_stock.copy(), model.district_state.jobs.copy()
        apply_levers(model)
        nanshan = _idx(model, (440305,))[0]
        quarter = 0.25 / 4                                  # a quarter of one of the four yearly parts
        assert model.district_state.housing_stock[nanshan] - housing[nanshan] == pytest.approx(
            400_000 * quarter * inside), date
        np.testing.assert_allclose(model.district_state.jobs[nanshan] - jobs[nanshan],
                                   200_000 * quarter * inside * np.array([0.2, 0.4, 0.4]))
        rest = np.setdiff1d(np.arange(model.geography.n), [nanshan])
        np.testing.assert_array_equal(model.district_state.housing_stock[rest], housing[rest])
        np.testing.assert_array_equal(model.district_state.jobs[rest], jobs[rest])


def _nanshan_by_year(area: dict | None) -> pd.DataFrame:
    """Nanshan's year-end housing and arrivals in a small historical run, with the shipped Qianhai lever replaced by
    ``area`` (None: no new area) under both Shenzhen variants."""
    overrides = {f"spatial_levers.{v}.qianhai": area for v in ("shenzhen_2005", "shenzhen_2016")}
    model = HukouModel(RunConfig(scale=2000, end=2014, seed=3, overrides=overrides)).run()
    d = model.district_year()
    d = d[(d["district"] == 440305) & ~d["census_day"].astype(bool)]
    return d.set_index("year")[["housing_stock", "arrivals"]]


def test_a_new_area_raises_its_districts_housing_and_arrivals_from_its_start_year_and_not_before() -> None:
    """The same run with and without a new area in Nanshan from 2013: identical through 2012 (the lever draws no
    random number), more housing and more arrivals in every year of the build-out."""
    area = {"kind": "new_area", "districts": [440305], "housing": 600_000, "jobs": 570_000,
            "job_tiers": [0.2, 0.4, 0.4], "start_year": 2013, "end_year": 2014, "article": "test"}
    with_area, without = _nanshan_by_year(area), _nanshan_by_year(None)
    before = with_area.index < 2013
    assert before.sum() >= 2
    pd.testing.assert_frame_equal(with_area[before], without[before])
    during = with_area.index >= 2013
    assert (with_area.loc[during, "housing_stock"] > without.loc[during, "housing_stock"] + 200_000).all()
    assert with_area.loc[during, "arrivals"].sum() > 1.2 * without.loc[during, "arrivals"].sum(), (with_area,
                                                                                                    without)


def test_a_lever_naming_a_district_outside_its_city_is_refused_when_the_regime_loads(tmp_path: Path) -> None:
    """A Shenzhen lever naming a Guangzhou district is an error at load, naming the file and the lever, not a lever
    that silently does nothing."""
    config = tmp_path / "run.yaml"
    config.write_text(
        "overrides:\n"
        "  spatial_levers.shenzhen_2005.qianhai:\n"
        "    {kind: new_area, districts: [440115], housing: 1000, jobs: 0, job_tiers: [0, 0, 1],\n"
        "     start_year: 2014, end_year: 2020, article: x}\n")
    with pytest.raises(InputError, match=r"districts outside shenzhen: \[440115\]") as err:
        load_config(config)
    assert "spatial_levers.shenzhen_2005.qianhai" in str(err.value) and "\n" not in str(err.value)


def test_a_counterfactual_borrowing_shenzhen_levers_moves_guangzhou_only_where_it_says() -> None:
    """policies/regimes/counterfactuals/guangzhou_renewal_like_shenzhen.yaml (a variant of its own extending
    spatial_levers.shenzhen_2016, aimed at Guangzhou's districts) in a run: from 2017 Guangzhou's core loses housing
    at Shenzhen's old-SEZ rates (1.5% renewal, 0.5% plans, 0.3% rental standards a year) instead of its own 0.75%,
    while Shenzhen's and Chengdu's housing, whose levers are those of history, stays within 0.3% of the historical
    run (its supply answers demand, which moves a little as migrants choose between cities and natives between
    districts)."""
    example = Path(__file__).parents[2] / "policies" / "regimes" / "counterfactuals" / \
        "guangzhou_renewal_like_shenzhen.yaml"
    runs = {name: HukouModel(RunConfig(scale=8000, end=2017, seed=5, regimes=regimes)).run().district_year()
            for name, regimes in (("historical", ("historical",)), ("borrowed", (str(example),)))}
    year = {name: frame[(frame.year == 2017) & ~frame.census_day].set_index("district") for name, frame in runs.items()}
    history, borrowed = year["historical"], year["borrowed"]
    core = list(GZ_CORE)
    ratio = borrowed.loc[core, "housing_stock"] / history.loc[core, "housing_stock"]
    # one year of -2.3% instead of -0.75%: about 1.6% less housing in each core district
    np.testing.assert_allclose(ratio, (1 - 0.015 - 0.005 - 0.003) / (1 - 0.0075), rtol=5e-3)
    others = history.index[history.city != "guangzhou"]
    np.testing.assert_allclose(borrowed.loc[others, "housing_stock"], history.loc[others, "housing_stock"], rtol=3e-3)
