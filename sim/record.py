"""Recording: flows counted as they happen, and the district-year and city-year tables written at each year's
end and on the two census days. Formulas of the city metrics are in docs/metrics.md."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from policies.cities import CITIES, HOME_ORIGIN
from sim.counting import count_by
from sim.geography import CORE_ZONE, ZONES
from sim.params import ORIGINS

if TYPE_CHECKING:
    from sim.model import HukouModel

__all__ = ["Flows", "record_state", "CHANNEL_CATEGORIES", "FLOW_NAMES"]

CHANNEL_CATEGORIES = ("talent", "points", "other")
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
        names = [*FLOW_NAMES, *(f"settled_{c}" for c in CHANNEL_CATEGORIES), "settled_bachelor", "hukou_months"]
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


def _entropy(counts: np.ndarray) -> float:
    """Normalised Shannon entropy of a distribution over districts (0: all in one, 1: even)."""
    total = counts.sum()
    if total <= 0 or len(counts) < 2:
        return float("nan")
    p = counts[counts > 0] / total
    return float(-(p * np.log(p)).sum() / np.log(len(counts)))


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b > 0 and not np.isnan(a) else float("nan")


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
        "settled_talent": flows["settled_talent"] * scale, "settled_points": flows["settled_points"] * scale,
        "settled_other": flows["settled_other"] * scale,
        "migrants_bachelor_plus": count(bachelor & ~settled), "agents_bachelor_plus": count(bachelor),
        "arrivals": flows["arrivals"] * scale, "returns": flows["returns"] * scale,
        "retirements": flows["retirements"] * scale, "moves_in": flows["moves_in"] * scale,
        "moves_out": flows["moves_out"] * scale,
        "settled_bachelor_plus": flows["settled_bachelor"] * scale, "hukou_months_sum": flows["hukou_months"] * scale,
        "migrant_children": model.flows.school_demand.copy(),
        "migrant_children_in_school": model.flows.school_served.copy(),
        "rent_index": state.rent.copy(), "housing_stock": state.housing_stock.copy(),
        "wage_index_low": state.wage[:, 0], "wage_index_mid": state.wage[:, 1], "wage_index_high": state.wage[:, 2],
        "school_places": state.school_places.copy(),
    })
    if census_day:  # flows are yearly: a census-day row is a state, not a year
        flow_columns = ["settled_talent", "settled_points", "settled_other", "arrivals", "returns", "retirements",
                        "moves_in", "moves_out", "settled_bachelor_plus", "hukou_months_sum"]
        frame[flow_columns] = np.nan
    model.district_rows.append(frame)
    model.city_rows.append(city_metrics(model, frame))


def city_metrics(model: HukouModel, frame: pd.DataFrame) -> pd.DataFrame:
    """The city-year outcome metrics of docs/metrics.md from the district rows of one date."""
    rows = []
    b = model.behaviour
    for gov in model.governments:
        f = frame[frame["city"] == gov.city]
        core = (f["zone"] == CORE_ZONE).to_numpy()
        res, mig, huk = f["residents"].sum(), f["migrants"].sum(), f["hukou_residents"].sum()
        settled_year = f[["settled_talent", "settled_points", "settled_other"]].sum().sum(min_count=1)
        this_year = [r for r in gov.published_rounds.values() if r.year == int(f["year"].iloc[0])]
        cutoffs = [r.cutoff_points for r in this_year if r.cutoff_points is not None]
        bachelor_residents = f["agents_bachelor_plus"].sum() + b.native_bachelor_share[gov.city] * f["natives"].sum()
        agents_and_returns = mig + f["settled_stock"].sum() + f["returns"].sum()
        rows.append({
            "year": f["year"].iloc[0], "census_day": bool(f["census_day"].iloc[0]), "city": gov.city,
            "regime": gov.regime.name, "regime_version": gov.snapshot.version,
            "residents": res, "hukou_residents": huk, "migrants": mig, "hukou_share": _ratio(huk, res),
            "migrants_other_province": f["migrants_other_province"].sum(),
            "permit_holders": f["permit_holders"].sum(), "permit_coverage": _ratio(f["permit_holders"].sum(), mig),
            "suburban_dispersion_migrants": _ratio(f["migrants"][~core].sum(), mig),
            "suburban_dispersion_residents": _ratio(f["residents"][~core].sum(), res),
            "entropy_migrants": _entropy(f["migrants"].to_numpy()),
            "talent_share_settlers": _ratio(f["settled_bachelor_plus"].sum(), settled_year),
            "talent_share_migrants": _ratio(f["migrants_bachelor_plus"].sum(), mig),
            "talent_share_residents": _ratio(bachelor_residents, res),
            "settlements_talent": f["settled_talent"].sum(min_count=1),
            "settlements_points": f["settled_points"].sum(min_count=1),
            "settlements_other": f["settled_other"].sum(min_count=1),
            "settlements_total": settled_year,
            "time_to_hukou_years": _ratio(f["hukou_months_sum"].sum(), settled_year) / 12,
            "points_cutoff": min(cutoffs, default=np.nan),
            "queue_length": sum(r.queue for r in this_year) * model.scale,
            "school_access": _ratio(f["migrant_children_in_school"].sum(), f["migrant_children"].sum()),
            "arrivals": f["arrivals"].sum(min_count=1), "returns": f["returns"].sum(min_count=1),
            "return_rate": _ratio(f["returns"].sum(min_count=1), agents_and_returns),
            "rent_index": _ratio((f["rent_index"] * f["residents"]).sum(), res),
        })
    return pd.DataFrame(rows)
