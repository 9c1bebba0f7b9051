"""Data access: experiments by identifier only, DuckDB locked to the results, the frames the pages read."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dashboard.data import Registry, UnknownExperiment, city_runs, observed_population, zone_runs


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


def test_observed_population_is_the_shipped_series() -> None:
    observed = observed_population()
    assert set(observed["city"]) == {"shenzhen", "guangzhou", "chengdu"}
    census = observed[(observed["city"] == "shenzhen") & (observed["year"] == 2010.83)
                      & (observed["measure"] == "residents")]
    assert census["value"].iloc[0] == 10358381
