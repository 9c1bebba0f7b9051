"""District state as columns (rents, housing, jobs and wages by skill tier, school places, commuting, natives).
A district's identity (adcode, names, zone) is its row of ``sim.geography.Geography``."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from policies.cities import CITIES
from sim.geography import Geography
from sim.params import Behaviour

__all__ = ["DistrictState"]


@dataclass
class DistrictState:
    """Arrays over districts (index = district number); tier arrays are ``(districts, 3)``."""

    rent: np.ndarray
    rent_2010: np.ndarray
    housing_stock: np.ndarray      # persons the housing holds at normal occupancy
    housing_2010: np.ndarray       # the same on the census day (natives' district constants, sim/phases/natives.py)
    jobs: np.ndarray               # jobs open to migrants by skill tier
    wage: np.ndarray               # wage index relative to the origin region by tier
    wage_2010: np.ndarray
    commute: np.ndarray            # commuting-cost index
    school_places: np.ndarray      # public school places (hukou children first, then migrant children)
    natives: np.ndarray            # hukou natives (counts, not agents)
    school_access: np.ndarray      # (districts, school group): access rate (sim/phases/services.py SCHOOL_GROUPS)
    school_coverage: np.ndarray = field(default_factory=lambda: np.zeros(0))  # census-day places per resident child
    children_by_year: dict[int, np.ndarray] = field(default_factory=dict)     # resident school-age children, Sept.

    @classmethod
    def initial(cls, geo: Geography, b: Behaviour) -> DistrictState:
        """State on the census day; jobs and school places are set by the model once migrants are placed."""
        zone = geo.zone.astype(np.int64)
        cities = [CITIES[c] for c in geo.city]
        wage = np.array([b.wage_index_2010[c] for c in cities]) * np.asarray(b.zone_wage_premium)[zone][:, None]
        rent = np.asarray(b.zone_rent_2010, dtype=np.float64)[zone]
        return cls(
            rent=rent.copy(), rent_2010=rent,
            housing_stock=geo.residents_2010 * (1 + b.vacancy_rate),
            housing_2010=geo.residents_2010 * (1 + b.vacancy_rate),
            jobs=np.zeros((geo.n, 3)), wage=wage.copy(), wage_2010=wage,
            commute=np.asarray(b.zone_commute, dtype=np.float64)[zone],
            school_places=np.zeros(geo.n), natives=geo.natives_2010.astype(np.float64),
            school_access=np.ones((geo.n, 3)),
        )

