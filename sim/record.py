"""Recording: flows counted as they happen, and the district-year and city-year tables written at each year's
end and on the two census days. The city metrics and their formulas are in sim/metrics.py (docs/metrics.md)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from policies.cities import CITIES, HOME_ORIGIN
from policies.mechanisms import CHANNEL_CATEGORIES
from sim.counting import count_by
from sim.geography import ZONES
from sim.metrics import SETTLED_COLUMNS, city_metrics
from sim.params import ORIGINS

if TYPE_CHECKING:
    from sim.model import HukouModel

__all__ = ["Flows", "record_state", "FLOW_NAMES"]

FLOW_NAMES = ("arrivals", "returns", "retirements", "moves_in", "moves_out")


class Flows:
    """Counts of agents by district for the current step and the current year."""

    def __init__(self, n_districts: int) -> None:
        self.n = n_districts
        self.year = self._zeros()
        self.step = self._zeros()
        self.school_demand: np.ndarray = np.zeros(n_districts)
        self.school_served: np.ndarray = np.zeros(n_districts)

    def _zeros(self) -> dict[str, np.ndarray]:
        names = [*FLOW_NAMES, *SETTLED_COLUMNS, "settled_bachelor", "hukou_months"]
        return {name: np.zeros(self.n) for name in names}

    def add(self, name: str, districts: np.ndarray, weights: np.ndarray | None = None) -> None:
        """Count agents (or ``weights``) by their district under ``name``."""
        if len(districts) == 0:
            return
        counts = np.bincount(districts.astype(np.int64), weights=weights, minlength=self.n)
        self.year[name] += counts
        self.step[name] += counts

    def add_settlements(self, category: str, districts: np.ndarray, bachelor: np.ndarray,
                        months_waited: np.ndarray) -> None:
        """Count new hukou holders by district: by channel category, those with a degree, and months waited."""
        if category not in CHANNEL_CATEGORIES:
            raise ValueError(f"unknown channel category {category!r} (known: {CHANNEL_CATEGORIES})")
        self.add(f"settled_{category}", districts)
        self.add("settled_bachelor", districts[bachelor])
        self.add("hukou_months", districts, weights=months_waited.astype(np.float64))

    def new_step(self) -> None:
        """Start counting a new step."""
        self.step = self._zeros()

    def new_year(self) -> None:
        """Start counting a new year."""
        self.year = self._zeros()


def record_state(model: HukouModel, date: dt.date, *, census_day: bool) -> None:
    """Append the district rows and city rows of the current state to the model's tables."""
    pop, geo, state, scale = model.population, model.geography, model.district_state, model.scale
    district = pop["district"]
    settled = pop["settled"] >= 0
    bachelor = pop["education"] >= 5

    def count(mask: np.ndarray | None = None) -> np.ndarray:
        return count_by(district, geo.n, where=mask, threads=model.threads) * scale

    agents = count()
    settled_stock = count(settled)
    # Out of province: an origin other than the province of the district's city (the census's 户口登记地在外省).
    home = np.array([ORIGINS.index(HOME_ORIGIN[c]) for c in CITIES], dtype=np.uint8)[geo.city]
    other_province = count(~settled & (pop["origin"] != home[district]))   # district −1 (gone) is not counted
    migrants = agents - settled_stock
    hukou = state.natives + settled_stock
    residents = state.natives + agents
    flows = model.flows.year
    year = round(date.year + (date.month - 1) / 12, 2) if census_day else float(date.year - 1)
    frame = pd.DataFrame({
        "year": year, "census_day": census_day, "date": date.isoformat(),
        "city": [CITIES[c] for c in geo.city], "district": geo.adcode, "district_name": list(geo.name),
        "district_name_cn": list(geo.name_cn), "zone": [ZONES[z] for z in geo.zone],
        "residents": residents, "natives": state.natives.copy(), "hukou_residents": hukou, "migrants": migrants,
        "migrants_other_province": other_province, "permit_holders": count(pop["permit"] & ~settled),
        "settled_stock": settled_stock,
        **{column: flows[column] * scale for column in SETTLED_COLUMNS},
        "migrants_bachelor_plus": count(bachelor & ~settled), "agents_bachelor_plus": count(bachelor),
        **{name: flows[name] * scale for name in FLOW_NAMES},
        "settled_bachelor_plus": flows["settled_bachelor"] * scale, "hukou_months_sum": flows["hukou_months"] * scale,
        "migrant_children": model.flows.school_demand.copy(),
        "migrant_children_in_school": model.flows.school_served.copy(),
        "rent_index": state.rent.copy(), "housing_stock": state.housing_stock.copy(),
        "wage_index_low": state.wage[:, 0], "wage_index_mid": state.wage[:, 1], "wage_index_high": state.wage[:, 2],
        "school_places": state.school_places.copy(),
    })
    if census_day:  # flows are yearly: a census-day row is a state, not a year
        flow_columns = [*SETTLED_COLUMNS, *FLOW_NAMES, "settled_bachelor_plus", "hukou_months_sum"]
        frame[flow_columns] = np.nan
    model.district_rows.append(frame)
    city = city_metrics(model, frame)
    model.city_rows.append(city)
    # What population control sees until the next count: each city's residents and hukou residents as counted now
    # (state the model keeps, not a re-read of the output table).
    model.last_count = {str(r.city): (float(r.residents), float(r.hukou_residents)) for r in city.itertuples()}
