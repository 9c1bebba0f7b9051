"""Expected settlement prospects: how likely a migrant judges getting hukou in each district's city within the
planning horizon, from their projected points and record and each channel's last published cut-off."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from policies.decision import Points
from policies.schema import Persons
from sim.government import CityGovernment
from sim.population import MigrantBatch

if TYPE_CHECKING:
    from sim.model import HukouModel

__all__ = ["prospect_factor", "channel_chance"]


def channel_chance(gov: CityGovernment, persons: Persons | MigrantBatch, points: Points | None,
                   years: float) -> np.ndarray:
    """Chance of settling through any of the city's channels within ``years``, for ``persons`` as projected."""
    n = len(persons)
    stay_out = np.ones(n)
    for mech in gov.channels():
        elig = mech.as_channel.eligible(persons, mech.params, points).eligible  # the rule applies any min_score
        kind = mech.as_channel.KIND
        if kind == "quota":
            published = gov.published_rounds.get(mech.name)
            chance = elig.astype(np.float64)
            if published is not None and published.cutoff_key == float("inf"):
                chance = np.zeros(n)
            elif published is not None and published.cutoff_key is not None:
                key = np.asarray(mech.as_quota.rank_keys(persons, mech.params, points)[0], dtype=np.float64)
                z = (key - published.cutoff_key) / max(published.key_spread, 1e-9)
                chance = chance / (1 + np.exp(-np.clip(z, -30, 30)))
        elif kind == "hazard":
            chance = elig * (1 - (1 - float(mech.params["rate"])) ** years)
        else:
            chance = elig.astype(np.float64)
        stay_out *= 1 - chance
    return 1 - stay_out


def _projected(persons: MigrantBatch, in_city: np.ndarray, formal: np.ndarray, months: int) -> MigrantBatch:
    """The batch as it would look after ``months`` more in the city (a permit, a job kept as it is)."""
    def ahead(col: np.ndarray, accrues: np.ndarray) -> np.ndarray:
        return np.where(in_city, col, 0) + np.where(accrues, months, 0)

    si = ahead(persons.si_pension, formal)
    return persons.with_columns(
        age=persons.age + months // 12,
        months_in_city=ahead(persons.months_in_city, np.ones_like(formal)),
        residence_permit_months=ahead(persons.residence_permit_months, np.ones_like(formal)),
        si_pension=si, si_medical=si, si_unemployment=si, si_work_injury=si, si_maternity=si,
        employed=np.ones_like(formal), stable_home=persons.stable_home | ~in_city,
    )


def prospect_factor(model: HukouModel, persons: MigrantBatch, current_city: np.ndarray, formal: np.ndarray,
                    district: np.ndarray) -> np.ndarray:
    """``exp(beta_prospect × chance)`` for each migrant of ``persons`` living in ``district`` (one district each):
    the chance of hukou within the planning horizon there, from their projected points and record and each
    channel's last published cut-off.

    Only the city of each migrant's district is evaluated: location choice proposes one district per chooser
    (``sim.phases.choice``), so a chooser costs one city's rules, not three. Within a city the chance varies only
    with the district's points bonus (Chengdu's region-differentiated points, 成府发〔2017〕23号 三（一）3), which
    is added to the projected total here, so a migrant sees that moving to a bonus district raises their chance.
    """
    geo, b = model.geography, model.behaviour
    years = b.prospect_horizon_years
    chance = np.zeros(len(persons))
    city = geo.city[district]
    for gov in model.governments:
        mine = np.flatnonzero(city == gov.city_index)
        if len(mine) == 0 or not gov.channels():
            continue
        in_city = current_city[mine] == gov.city_index
        projected = _projected(persons.take(mine), in_city, formal[mine], 12 * years)
        points = gov.points(projected)
        if points is not None:
            bonus = gov.district_bonus(geo.adcode[district[mine]])
            home_bonus = gov.district_bonus(projected.home_district) * in_city
            if np.any(bonus) or np.any(home_bonus):
                points = Points(points.total + bonus - home_bonus, points.parts)
        chance[mine] = channel_chance(gov, projected, points, years)
    return np.exp(b.beta_prospect * chance)
