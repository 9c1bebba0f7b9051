"""The one list of metrics (sim/metrics.py): the zone formulas in SQL agree with the city formulas in Python."""

from __future__ import annotations

import duckdb
import numpy as np

from sim.config import RunConfig
from sim.metrics import CITY_METRICS, DISTRICT_METRICS, SHARE_METRICS, YEAR_METRICS, ZONE_SQL
from sim.model import HukouModel


def test_lists_name_recorded_columns() -> None:
    """Every listed metric is a column the model records, and every unit set names listed metrics."""
    model = HukouModel(RunConfig(scale=40000, end=2011, history=False)).run()
    assert set(CITY_METRICS) <= set(model.city_year().columns)
    assert set(DISTRICT_METRICS) <= set(model.district_year().columns)
    assert SHARE_METRICS | YEAR_METRICS <= set(CITY_METRICS)
    assert set(ZONE_SQL) <= set(CITY_METRICS)


def test_zone_sql_over_a_whole_city_is_the_city_metric() -> None:
    """``ZONE_SQL`` grouped by city (all its zones together) gives ``city_metrics``'s value, except the
    suburban dispersion, which per zone is the zone's share of the city's migrants (so 1 for the whole city).

    Year-end rows only: on a census day the yearly flows are null, and ``settlements_total`` of the city table is
    0 there (a sum of nulls) where the SQL gives null."""
    model = HukouModel(RunConfig(scale=20000, end=2013, history=False, seed=4)).run()
    districts = model.district_year().assign(run="r")
    cities = model.city_year()
    cities = cities[~cities["census_day"]].set_index(["year", "city"])
    cols = ", ".join(f"CAST({expr} AS DOUBLE) AS {m}" for m, expr in ZONE_SQL.items())
    con = duckdb.connect()
    con.register("district_year", districts)
    sql = con.sql(f"SELECT year, city, {cols} FROM district_year GROUP BY run, year, city").df()
    con.close()
    sql = sql.set_index(["year", "city"]).loc[cities.index]
    assert np.allclose(sql["suburban_dispersion_migrants"], 1.0)
    for metric in ZONE_SQL:
        if metric == "suburban_dispersion_migrants":
            continue
        np.testing.assert_allclose(sql[metric].to_numpy(dtype=float), cities[metric].to_numpy(dtype=float),
                                   rtol=1e-9, equal_nan=True, err_msg=metric)
