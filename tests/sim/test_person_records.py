"""Migrants carry the records the points tables and conditions score (blood donation, volunteering, patents,
credit, criminal record, unemployment insurance): drawn on arrival with behaviour.yaml's shares and read by the
same rules that score the calculator's person (issue 11, the CALC-ONLY rows of the audit)."""

from __future__ import annotations

import numpy as np

from policies.schema import WINDOW_YEARS
from sim.attributes import draw_migrants
from sim.config import RunConfig
from sim.model import HukouModel
from sim.params import default_behaviour
from sim.population import DONATIONS_PER_YEAR, RECORD_BITS


def test_records_are_drawn_with_their_shares_and_patents_only_for_graduates() -> None:
    b = default_behaviour()
    cols = draw_migrants(np.random.default_rng(0), np.zeros(200_000, dtype=np.int8), b, month_index=740, step=0)
    for name, bit in RECORD_BITS.items():
        has = (cols["records"] & bit) > 0
        graduates = cols["education"] >= 5
        share = has[graduates].mean() if name.endswith("_patent") else has.mean()
        expected = getattr(b.person_records, name)
        assert abs(share - expected) < 4 * np.sqrt(expected * (1 - expected) / 20_000) + 1e-9, (name, share)
        if name.endswith("_patent"):
            assert not has[~graduates].any()


def test_the_rules_read_the_records_and_guangzhou_points_count_them() -> None:
    model = HukouModel(RunConfig(scale=4000, end=2012, seed=2))
    pop, guangzhou = model.population, model.governments[1]
    rows = np.flatnonzero(model.geography.city[np.maximum(pop["district"], 0)] == guangzhou.city_index)[:500]
    pop["records"][rows] = 0
    before = guangzhou.points(model.persons(rows))
    pop["records"][rows] = (RECORD_BITS["blood_donor"] | RECORD_BITS["criminal"]
                            | RECORD_BITS["no_unemployment_insurance"])
    persons = model.persons(rows)
    after = guangzhou.points(persons)
    assert persons.criminal.all() and not persons.bad_credit.any()
    np.testing.assert_array_equal(persons.blood_donations, np.full((len(rows), WINDOW_YEARS), DONATIONS_PER_YEAR))
    assert (persons.si_unemployment == 0).all() and (persons.si_pension >= 0).all()
    # 穗 2011-2015 table: 2 points a donation, at most 2 a year and 10 in all: five yearly donations give 10
    assert before is not None and after is not None
    np.testing.assert_array_equal(after.total - before.total, np.full(len(rows), 10.0))
