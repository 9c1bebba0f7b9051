"""Public schooling as the texts give it: who reaches a school place (sim/phases/services.py)."""

from __future__ import annotations

import numpy as np

from sim.config import RunConfig
from sim.government import CityGovernment
from sim.model import HukouModel
from sim.phases.services import enrolling_parents


def test_every_chengdu_permit_holder_reaches_basic_schooling_first() -> None:
    """成府发〔2017〕23号 三（三）1: every permit holder's child gets basic (compulsory) schooling, on equal terms;
    continuous residence and insurance condition other services, not schooling. A permit issued in the month of
    enrolment counts as held. Without a permit, no public-school place.

    Before the fix (audit row 75) holders with less than a year of permit and pension insurance came second, and
    a permit issued in the enrolment step barred the child.
    """
    model = HukouModel(RunConfig(scale=2000, end=2018, seed=3)).run()
    pop, geo = model.population, model.geography
    gov = next(g for g in model.governments if g.city == "chengdu")
    district = pop["district"]
    here = np.flatnonzero((district >= 0) & (pop["children"] > 0) & (pop["settled"] < 0))
    here = here[geo.city[district[here]] == gov.city_index]
    holders, others = here[pop["permit"][here]], here[~pop["permit"][here]]
    assert len(holders) > 20 and len(others) > 20, (len(holders), len(others))
    newest = holders[: len(holders) // 2]
    pop["permit_months"][newest] = 0          # as if issued in this step
    tier = gov.school_tier(enrolling_parents(model, holders))
    assert np.all(tier == 1), np.unique(tier, return_counts=True)
    assert np.all(gov.school_tier(enrolling_parents(model, others)) == CityGovernment.NO_SCHOOL)
