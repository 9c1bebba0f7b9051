"""The columnar population, one migrant's read-only view, and the census-day geography."""

from __future__ import annotations

import numpy as np
import pytest

from policies.schema import EDUCATION
from sim.geography import DAPENG_ADCODE, ZONES, hukou_2010_totals, load_geography
from sim.model import HukouModel
from sim.params import ORIGINS
from sim.population import COLUMNS, OUTSIDE, Columns, MigrantPopulation, build_persons


def _columns(n: int, district: int = 0) -> dict[str, np.ndarray]:
    cols = {name: np.zeros(n, dtype=dtype) for name, dtype in COLUMNS.items() if name != "uid"}
    cols["district"][:] = district
    return cols


def test_population_grows_compacts_and_keeps_uids() -> None:
    pop = MigrantPopulation(capacity=16)
    pop.append(_columns(20))
    pop.append(_columns(30, district=3))
    assert len(pop) == 50 and pop["uid"].tolist() == list(range(50))
    pop["district"][[1, 5, 40]] = OUTSIDE
    assert pop.compact() == 3
    assert len(pop) == 47 and 5 not in pop["uid"] and pop.row_of(6) == 4 and pop.row_of(5) is None
    assert np.all(np.diff(pop["uid"]) > 0)


def test_append_refuses_missing_columns() -> None:
    with pytest.raises(ValueError, match="columns missing"):
        MigrantPopulation().append({"district": np.zeros(3, dtype=np.int8)})


def test_migrant_view_has_attributes_and_history(small_run: HukouModel) -> None:
    model = small_run
    settled_rows = np.flatnonzero(model.population["settled"] >= 0)
    uid = int(model.population["uid"][settled_rows[0]])
    view = model.migrant(uid)
    assert view is not None and view.uid == uid
    events = [h["event"] for h in view.history]
    assert events[0] == "arrive" and "settle" in events
    assert view.attributes["settled"] in model.channel_names  # names, not codes
    assert view.attributes["education"] in EDUCATION and view.attributes["origin"] in ORIGINS
    assert view.attributes["district"] == "outside" or view.attributes["district"].endswith(")")
    assert next(h for h in view.history if h["event"] == "settle")["value"] in model.channel_names
    with pytest.raises(TypeError):
        view.attributes["settled"] = -1  # read-only
    with pytest.raises(KeyError, match="no migrant 1000000000 in this run"):
        model.migrant(10**9)


def test_census_day_geography() -> None:
    geo = load_geography()
    assert geo.n == 41
    assert set(np.unique(geo.city)) == {0, 1, 2}
    assert DAPENG_ADCODE in geo.adcode
    shenzhen = geo.city == 0
    assert hukou_2010_totals(("shenzhen",)) == {"shenzhen": 2_510_145}  # census yearbook (city_population.csv)
    assert geo.hukou_2010[shenzhen].sum() == pytest.approx(2_510_145, abs=3)
    np.testing.assert_array_equal(geo.residents_2010, geo.natives_2010 + geo.migrants_2010)
    yuexiu = int(np.flatnonzero(geo.adcode == 440104)[0])  # registration exceeds residents there
    assert geo.migrants_2010[yuexiu] == geo.other_province_2010[yuexiu]
    assert {ZONES[z] for z in geo.zone} == set(ZONES)
    assert (geo.migrants_2010 > 0).all()


def test_projections_share_their_base_columns_and_recompute_what_they_replace(small_run: HukouModel) -> None:
    """Projecting the same people for three cities gathers and taxes them once (MigrantBatch.with_columns)."""
    taxed: list[int] = []

    def tax(columns: Columns, rows: np.ndarray) -> np.ndarray:
        taxed.append(len(rows))
        return small_run.tax_3y(columns, rows)

    rows = np.flatnonzero(small_run.population["district"] >= 0)[:50]
    base = build_persons(small_run.population, rows, date=small_run.date, month_index=small_run.month_index,
                         adcode=small_run.geography.adcode, income_tax_3y=tax)
    in_a_year = base.with_columns(si_pension=base.si_pension + 12)
    in_two_years = base.with_columns(si_pension=base.si_pension + 24)
    assert np.array_equal(in_a_year.tax_paid_3y, in_two_years.tax_paid_3y)
    assert taxed == [50]
    assert np.array_equal(in_a_year.si_medical, base.si_pension + 12)  # read from the projection, not the base
    assert np.array_equal(in_two_years.take(np.arange(10)).si_maternity, (base.si_pension + 24)[:10])
    assert np.array_equal(in_a_year.take(np.arange(10)).tax_paid_3y, base.tax_paid_3y[:10])
    assert taxed == [50]
