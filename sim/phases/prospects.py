"""Expected settlement prospects: how likely a migrant judges getting hukou in each district's city within the
planning horizon, from their projected points and record and each channel's last published cut-off."""

from __future__ import annotations

import numpy as np

from policies.decision import Points
from policies.schema import Persons
from sim.government import CityGovernment
from sim.population import MigrantBatch

__all__ = ["settlement_prospects", "channel_chance"]


def channel_chance(gov: CityGovernment, persons: Persons | MigrantBatch, points: Points | None,
                   years: float) -> np.ndarray:
    """Chance of settling through any of the city's channels within ``years``, for ``persons`` as projected."""
    n = len(persons)
    stay_out = np.ones(n)
    for mech in gov.channels():
        elig = mech.rules.eligible(persons, mech.params, points).eligible
        if points is not None and "min_score" in mech.params:
            elig = elig & (points.total >= mech.params["min_score"])
        kind = mech.rules.KIND
        if kind == "quota":
            published = gov.published_rounds.get(mech.name)
            chance = elig.astype(np.float64)
            if published is not None and published.cutoff_key == float("inf"):
                chance = np.zeros(n)
            elif published is not None and published.cutoff_key is not None:
                key = np.asarray(mech.rules.rank_keys(persons, mech.params, points)[0], dtype=np.float64)
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


def settlement_prospects(model, persons: Persons | MigrantBatch, current_city: np.ndarray,  # noqa: ANN001
                         formal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Chance of hukou within the horizon when living in each district, as ``(chance, group_of_district)``:
    ``chance[:, g]`` for district group ``g`` and ``group_of_district[d]`` the group of district ``d``.

    A group is a city's districts that share a points bonus (Chengdu's region-differentiated points, 成府发〔2017〕
    23号 三（一）3), so a migrant sees that moving to a bonus district raises their chance.
    """
    geo, b = model.geography, model.behaviour
    years = b.prospect_horizon_years
    columns, group_of_district = [], np.zeros(geo.n, dtype=np.int64)
    for gov in model.governments:
        districts = geo.of_city(gov.city_index)
        if not gov.channels():
            group_of_district[districts] = len(columns)
            columns.append(np.zeros(len(persons), dtype=np.float32))
            continue
        in_city = current_city == gov.city_index
        projected = _projected(persons, in_city, formal, 12 * years)
        points = gov.points(projected)
        bonus = gov.district_bonus(geo.adcode[districts])
        home_bonus = gov.district_bonus(projected.home_district) * in_city
        for value in np.unique(bonus):
            shifted = points
            if points is not None and (value != 0 or np.any(home_bonus)):
                shifted = Points(points.total + value - home_bonus, points.parts)
            group_of_district[districts[bonus == value]] = len(columns)
            columns.append(channel_chance(gov, projected, shifted, years).astype(np.float32))
    return np.stack(columns, axis=1), group_of_district
