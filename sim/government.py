"""``CityGovernment``: one city's institutional actor. It applies the city's regime on each date: permits,
points, settlement channels and quota rounds, school tiers, spatial levers, quota control; and it publishes each
round's cut-off, which migrants use to judge their prospects."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import mesa
import numpy as np

from policies.decision import Lever, Points
from policies.regime import CITIES, ActiveMechanism, PolicySnapshot, Regime
from policies.schema import Persons
from sim.population import MigrantBatch

if TYPE_CHECKING:
    from sim.model import HukouModel

__all__ = ["CityGovernment", "RoundResult"]


@dataclass
class RoundResult:
    """What a quota round published: the cut-off (primary ranking key and points of the last admitted), the queue
    (applicants not admitted) and how many were admitted, in agents."""

    cutoff_key: float | None = None
    cutoff_points: float | None = None
    key_spread: float = 1.0
    admitted: int = 0
    queue: int = 0
    year: int = 0


class CityGovernment(mesa.Agent):
    """A city's government: asks its regime what applies on the model's date and applies it."""

    def __init__(self, model: HukouModel, city_index: int, regime: Regime) -> None:
        super().__init__(model)
        self.city_index = city_index
        self.city = CITIES[city_index]
        self.regime = regime
        self.snapshot: PolicySnapshot = regime.snapshot(model.date)
        self._valid_until = self._next_change(model.date)
        self.published_rounds: dict[str, RoundResult] = {}  # the last round of each quota channel
        self.settled_last_year: dict[str, float] = {}  # persons (agents × scale)
        self.settled_this_year: dict[str, float] = {}

    def _next_change(self, date: dt.date) -> dt.date:
        later = [d for d in self.regime.change_dates if d > date]
        return later[0] if later else dt.date.max

    def refresh(self, date: dt.date) -> None:
        """Take the regime's rules for ``date`` (recomputed only when a version or parameter changes)."""
        if date >= self._valid_until:
            self.snapshot = self.regime.snapshot(date)
            self._valid_until = self._next_change(date)

    # What the regime says, by role -------------------------------------------------------------------------
    def permit_rule(self) -> ActiveMechanism | None:
        """The residence-permit mechanism in force (None: no permit system)."""
        return self.snapshot.one("permit")

    def points(self, persons: Persons | MigrantBatch) -> Points | None:
        """Points of ``persons`` under the city's points table in force (None when there is none)."""
        mech = self.snapshot.one("points")
        return mech.as_points.score(persons, mech.params) if mech else None

    def district_bonus(self, adcodes: np.ndarray) -> np.ndarray:
        """Points for living in each district (Chengdu's region-differentiated points), zeros when none."""
        mech = self.snapshot.one("points")
        if mech is None:
            return np.zeros(len(adcodes))
        return np.asarray(mech.as_points.district_bonus(adcodes, mech.params), dtype=np.float64)

    def channels(self) -> list[ActiveMechanism]:
        """Settlement channels in force, in the regime's order."""
        return self.snapshot.by_role("channel")

    NO_SCHOOL = 255  # tier value of children the regime gives no public-school place

    def school_tier(self, persons: Persons | MigrantBatch) -> np.ndarray | None:
        """Each migrant child's priority tier for a public school place (1 = first served; ``NO_SCHOOL`` where
        the regime gives none), or None when the regime has no services mechanism (the model's default rule)."""
        mech = self.snapshot.one("services")
        if mech is None:
            return None
        tier = np.asarray(mech.as_services.school_tier(persons, mech.params), dtype=np.int64)
        return np.where(tier >= int(mech.params["tiers"]), self.NO_SCHOOL, tier)

    def school_rule_in_force(self) -> bool:
        """Whether a services mechanism ranks migrant children here (else the model's default rule does)."""
        return self.snapshot.one("services") is not None

    def school_planning_lag(self) -> int | None:
        """Years between counting the resident children and opening the places planned for them, where the
        services in force plan school places from resident population (None: places grow at a fixed rate)."""
        mech = self.snapshot.one("services")
        if mech is None or not mech.params["school_planning"]["follows_population"]:
            return None
        return int(mech.params["school_planning"]["lag_years"])

    def levers(self) -> list[Lever]:
        """Spatial levers in force."""
        return [lever for mech in self.snapshot.by_role("spatial") for lever in mech.as_spatial.levers(mech.params)]

    def quota_factors(self, state: dict) -> dict[str, float]:
        """Multipliers of this year's quotas from population control (总量控制, 动态平衡)."""
        factors: dict[str, float] = {}
        for mech in self.snapshot.by_role("control"):
            for name, f in mech.as_control.quota_factors(state, mech.params).items():
                factors[name] = factors.get(name, 1.0) * float(f)
        return factors

    def start_year(self) -> None:
        """Roll the year's settlement counts (dynamic balance looks at last year's)."""
        self.settled_last_year = dict(self.settled_this_year)
        self.settled_this_year = {}
