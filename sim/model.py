"""``HukouModel``: migrants choosing among the districts of Shenzhen, Guangzhou and Chengdu, gaining permits and
points, and settling under each city's regime. A step is a month or a quarter, mapped to dates by ``Clock``; it
reads as the list of phases in ``step()``, each a vectorised function of the whole model."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

import mesa
import numpy as np
import pandas as pd

import policies
from policies.cities import CITIES, HOME_ORIGIN, OUT_OF_PROVINCE_TABLE
from policies.regime import Regime, with_overrides
from sim.attributes import draw_migrants
from sim.clock import Clock
from sim.config import RunConfig
from sim.counting import presence_counts
from sim.districts import DistrictState
from sim.drivers import pool_series
from sim.geography import load_geography
from sim.government import CityGovernment
from sim.inspect_migrant import describe
from sim.params import ORIGINS
from sim.phases.choice import district_terms
from sim.phases.constants import census_day_flows, census_stock_by_type, fit_constants
from sim.phases.employment import work_and_accrue
from sim.phases.exits import retire
from sim.phases.markets import update_markets
from sim.phases.migration import arrive, relocate, stochastic_round
from sim.phases.permits import issue_permits
from sim.phases.services import allocate_school_places, enrol, initial_school_places
from sim.phases.settlement import settlement_rounds
from sim.population import Columns, EventLog, MigrantBatch, MigrantPopulation, MigrantView, build_persons, view_of
from sim.record import Flows, record_state
from sim.tax import monthly_income, tax_paid_3y

__all__ = ["HukouModel"]
log = logging.getLogger(__name__)


class HukouModel(mesa.Model):
    """The model. ``HukouModel(RunConfig(scale=1000, end=2020)).run()`` then read ``district_year()``."""

    def __init__(self, config: RunConfig | None = None, *, regimes: dict[str, Regime] | None = None,
                 threads: int = 1) -> None:
        """``threads``: how many threads evaluate chunks of a phase (``sim.parallel``); results do not depend on
        it. One by default, because sweeps already keep every core busy with one run per process."""
        config = config or RunConfig()
        super().__init__(rng=config.seed)
        self.config = config
        self.threads = max(1, int(threads))
        self.behaviour = config.behaviour
        self.scale = float(config.scale)
        self.clock = Clock(config.end, config.step_months)
        self.t = -1  # index of the step under way (−1: the census-day state before the first step)
        self.geography = load_geography()
        self.regimes = regimes if regimes is not None else policies.resolve(config.regimes)
        if config.overrides:
            self.regimes = with_overrides(self.regimes, config.resolved_overrides())
        self.district_state = DistrictState.initial(self.geography, self.behaviour)
        expected = self.geography.migrants_2010.sum() / self.scale
        self.population = MigrantPopulation(capacity=int(expected * 1.1) + 64)
        self.events = EventLog(config.history)
        self.flows = Flows(self.geography.n)
        self.district_rows: list[pd.DataFrame] = []
        self.city_rows: list[pd.DataFrame] = []
        self.last_count: dict[str, tuple[float, float]] = {}  # residents, hukou residents by city (sim/record.py)
        self.round_log: list[dict] = []
        self.channel_names: list[str] = []
        self.governments = [CityGovernment(self, i, self.regimes[city]) for i, city in enumerate(CITIES)]
        self._place_census_stock()
        allocate_school_places(self)
        self._fit_district_constants()
        record_state(self, self.date, census_day=True)

    # The clock ------------------------------------------------------------------------------------------------
    @property
    def date(self) -> dt.date:
        """The first day of the step under way (the census day before the first step)."""
        return self.clock.start(max(self.t, 0))

    @property
    def month_index(self) -> int:
        """Months since January 1950 on ``date``."""
        return self.clock.month_index(self.date)

    @property
    def step_months(self) -> int:
        """Length of the step under way in months."""
        return self.clock.months(self.t)

    @property
    def steps_done(self) -> bool:
        """Whether the run has reached the end of its last year."""
        return self.t + 1 >= self.clock.n_steps

    # One step -------------------------------------------------------------------------------------------------
    def step(self) -> None:
        """Arrivals → markets → location choice → employment and insurance → permits → settlement → services →
        exits → record. Points are scored where they are used: in each settlement round and in the prospects
        that location choice weighs."""
        self.begin_step()
        arrive(self)
        presence = presence_counts(self, self.threads)   # one count serves markets and the choice weights
        update_markets(self, presence)
        self.choice_terms = district_terms(self, presence)
        relocate(self)
        work_and_accrue(self)
        issue_permits(self)
        settlement_rounds(self)
        enrol(self)
        retire(self)
        self.end_step()

    def begin_step(self) -> None:
        """Advance the clock and let each city government take the rules in force on the new date."""
        self.t = self.steps - 1
        self.flows.new_step()
        for gov in self.governments:
            gov.refresh(self.date)
            if self.date.month == 1 and self.date.day == 1:
                gov.start_year()

    def end_step(self) -> None:
        """Record census-day and year-end states; once a year drop the rows of migrants who left."""
        end = self.clock.end(self.t)
        if self.clock.ends_on_census_day(self.t):
            record_state(self, end, census_day=True)
        if self.clock.ends_year(self.t):
            record_state(self, end, census_day=False)
            self.flows.new_year()
            self.population.compact(self.threads)
            self.events.consolidate()
        self.running = not self.steps_done

    def run(self, progress: Callable[[int, int], object] | None = None) -> HukouModel:
        """Run every step to the end of the last year; ``progress(done, total)`` is called after each step."""
        while self.running and not self.steps_done:
            self.step()
            if progress is not None:
                progress(self.t + 1, self.clock.n_steps)
        return self

    # Helpers the phases share ---------------------------------------------------------------------------------
    def pool_index(self, origin: str, date: dt.date) -> float:
        """The pool of potential migrants from ``origin`` on ``date`` relative to the census day (``sim.drivers``)."""
        year = date.year + (date.month - 1) / 12 + (date.day - 1) / 365
        return pool_series().index(origin, year, self.behaviour.inflow_growth_per_year)

    def persons(self, rows: np.ndarray) -> MigrantBatch:
        """The ``Persons`` columns (what rules read) of the migrants at ``rows`` today, gathered on first use."""
        return build_persons(self.population, rows, date=self.date, month_index=self.month_index,
                             adcode=self.geography.adcode, income_tax_3y=self.tax_3y)

    def tax_3y(self, columns: Columns, rows: np.ndarray) -> np.ndarray:
        """Income tax paid over three years by each migrant at ``rows`` (from today's wage where they live)."""
        district = columns["district"][rows].astype(np.int64)
        tier = columns["tier"][rows]
        wage_index = np.where(district >= 0, self.district_state.wage[np.maximum(district, 0), tier], 1.0)
        income = monthly_income(wage_index, columns["productivity"][rows], self.date)
        return tax_paid_3y(income, columns["employed"][rows], self.date)

    def channel_code(self, name: str) -> int:
        """A small integer for a settlement channel (stored in ``settled``)."""
        if name not in self.channel_names:
            self.channel_names.append(name)
        return self.channel_names.index(name)

    def control_state(self, gov: CityGovernment) -> dict:
        """What population control looks at: the city's residents and hukou residents, last year's settlements."""
        residents, hukou_residents = self.last_count.get(gov.city, (0.0, 0.0))
        return {"year": self.date.year, "residents": residents, "hukou_residents": hukou_residents,
                "settled_last_year": dict(gov.settled_last_year)}

    # Inspection -----------------------------------------------------------------------------------------------
    def migrant(self, uid: int) -> MigrantView:
        """A read-only view of migrant ``uid`` in words (sim/inspect_migrant.py): current attributes and the history
        of status changes. An id that never existed is a ``KeyError`` saying which ids do."""
        steps = list(self.clock.boundaries)
        view = view_of(self.population, self.events, uid, steps)
        if view is None:
            ids = self.population["uid"]
            known = f"{int(ids.min())}–{int(ids.max())}" if len(ids) else "none"
            raise KeyError(f"no migrant {uid} in this run (ids of migrants still here: {known}; a migrant who left "
                           "is kept only with history on)")
        return describe(view, self.geography, self.channel_names, steps)

    def district_year(self) -> pd.DataFrame:
        """District rows of every recorded date (years from ``config.start``)."""
        frame = pd.concat(self.district_rows, ignore_index=True)
        return frame[frame["year"] >= self.config.start].reset_index(drop=True)

    def city_year(self) -> pd.DataFrame:
        """City outcome metrics of every recorded date (years from ``config.start``)."""
        frame = pd.concat(self.city_rows, ignore_index=True)
        return frame[frame["year"] >= self.config.start].reset_index(drop=True)

    # The census-day stock -------------------------------------------------------------------------------------
    def _place_census_stock(self) -> None:
        """Migrants of each district on 2010-11-01 (documented in sim/geography.py), with drawn attributes."""
        geo, b, rng = self.geography, self.behaviour, self.rng
        counts = [stochastic_round(rng, m / self.scale) for m in geo.migrants_2010]
        district = np.repeat(np.arange(geo.n, dtype=np.int8), counts)
        out_share = np.zeros(geo.n)
        for c in range(len(CITIES)):
            mine = geo.city == c
            known = mine & (geo.other_province_2010 > 0)
            share = np.minimum(geo.other_province_2010 / np.maximum(geo.migrants_2010, 1), 1.0)
            fallback = geo.other_province_2010[known].sum() / geo.migrants_2010[known].sum()
            out_share[mine] = np.where(known[mine], share[mine], fallback)
        city = geo.city[district]
        origin = np.empty(len(district), dtype=np.uint8)
        out_of_province = rng.random(len(district)) < out_share[district]
        for c, name in enumerate(CITIES):
            in_city = city == c
            origin[in_city & ~out_of_province] = ORIGINS.index(HOME_ORIGIN[name])
            away = np.flatnonzero(in_city & out_of_province)
            split = np.cumsum(b.origin_of_out_of_province[OUT_OF_PROVINCE_TABLE[name]])
            origin[away] = np.searchsorted(split / split[-1], rng.random(len(away)), side="right")
        columns = draw_migrants(rng, origin, b, month_index=self.month_index, step=-1, stock_2010=True,
                                threads=self.threads)
        columns["district"] = district
        rows = self.population.append(columns)
        self._initial_permits(rows)
        self._initial_jobs_and_schools()
        self.events.add("arrive", self.population["uid"][rows], -1, district)

    def _fit_district_constants(self) -> None:
        """Size reference and district constants of location choice, from the census-day state
        (``sim.phases.constants``): without any change the census's spread over districts stays put."""
        state = self.district_state
        self.size_reference = (state.jobs.mean(axis=0), float(state.housing_stock.mean()))
        self.district_constants = np.zeros(self.geography.n)
        self.choice_terms = district_terms(self)
        self.district_constants = fit_constants(census_day_flows(self))
        self.choice_terms = district_terms(self)

    def _initial_permits(self, rows: np.ndarray) -> None:
        pop = self.population
        for gov in self.governments:
            rule = gov.permit_rule()
            if rule is None:
                continue
            mine = rows[self.geography.city[pop["district"][rows]] == gov.city_index]
            eligible = rule.as_permit.eligible(self.persons(mine), rule.params, None).eligible
            holders = mine[eligible & (self.rng.random(len(mine)) < self.behaviour.permit_share_2010)]
            pop["permit"][holders] = True
            held = pop["months_in_city"][holders] * self.behaviour.permit_months_share_2010
            pop["permit_months"][holders] = held.astype(np.uint16)

    def _initial_jobs_and_schools(self) -> None:
        """Jobs open to migrants: the census's migrants of each district at the 2010 employment rate, split by
        skill tier as the agents placed there are (shrunk toward the city's split, so that a small district with
        few agents at a coarse scale still has jobs of every tier), plus vacancies; then school places."""
        pop, geo, state = self.population, self.geography, self.district_state
        agents = np.bincount(pop["district"].astype(np.int64) * 3 + pop["tier"], minlength=geo.n * 3)
        mix = census_stock_by_type(agents.reshape(geo.n, 3), geo.migrants_2010.astype(np.float64),
                                   geo.city.astype(np.int64))
        workers = mix * self.behaviour.employment_rate_2010
        # Vacancies in every tier, so a tier with no migrant worker on the census day is not closed for good.
        vacancies = self.behaviour.vacancy_rate * workers.sum(axis=1, keepdims=True) / 3
        state.jobs = workers + np.maximum(self.behaviour.vacancy_rate * workers, vacancies)
        state.school_places = initial_school_places(self)
