"""Behavioural parameters: their types (pydantic) and their default values with provenance (``behaviour.yaml``).

Every default in ``sim/data/behaviour.yaml`` carries ``ref:`` or ``assumption:``; the loader refuses one without.
A run's config may override any value (``behaviour: {beta_rent: 1.5}``); unknown names are refused.
Values estimated by ``hukou calibrate`` (``sim/data/calibrated.yaml``, dotted paths such as
``inflow_persons_per_year.central``) replace the hand-set priors of behaviour.yaml in the defaults, and their
provenance says so; ``default_behaviour(calibrated=False)`` gives the priors alone.
"""

from __future__ import annotations

import copy
from functools import cache
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from policies.cities import CITIES, OUT_OF_PROVINCE_TABLE
from policies.errors import InputError
from policies.parameters import parse_entries
from policies.yamlio import load_yaml_text

__all__ = ["Behaviour", "default_behaviour", "behaviour_provenance", "calibrated_parameters", "ORIGINS", "TIERS"]

ORIGINS = ("guangdong", "sichuan_chongqing", "central", "other")
TIERS = ("low", "mid", "high")
Prob = Field(ge=0, le=1)


class _Frozen(BaseModel):
    # NaN and infinity are refused everywhere: a NaN weight ran to exit 0 with 55.9 M migrants in Guangzhou.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class PersonRecords(_Frozen):
    """Shares of migrants with the records the points tables and conditions score (``sim/attributes.py``), one
    per bit of ``sim.population.RECORD_BITS``."""

    criminal: float = Prob
    bad_credit: float = Prob
    blood_donor: float = Prob
    volunteer: float = Prob
    invention_patent: float = Prob   # among migrants with a bachelor's degree or more
    utility_patent: float = Prob     # likewise
    mortgaged_owner: float = Prob
    no_unemployment_insurance: float = Prob


class UnemploymentInsuranceLag(_Frozen):
    """How much later than their medical insurance migrants began their unemployment insurance
    (``sim/attributes.py``): a ``share`` of those who have it, by 1 to ``max_months`` months (uniform)."""

    share: float = Prob
    max_months: int = Field(ge=1, le=255)   # kept in a uint8 column (sim.population COLUMNS ui_lag)


class ByTier(_Frozen):
    """One value per skill tier."""

    low: float
    mid: float
    high: float

    def as_list(self) -> list[float]:
        """Values in tier order."""
        return [self.low, self.mid, self.high]


class Behaviour(_Frozen):
    """The behavioural parameters (see ``sim/data/behaviour.yaml`` for meaning and provenance of each)."""

    inflow_persons_per_year: dict[str, float]
    inflow_growth_per_year: float = Field(ge=-0.5, le=0.5)
    origin_of_out_of_province: dict[str, list[float]]
    rural_share: float = Prob
    male_share: float = Prob
    age_mean: float = Field(ge=16, le=59)
    age_sd: float = Field(gt=0)
    education_shares: dict[str, list[float]]
    full_time_degree_share: float = Prob
    title_shares_by_education: dict[str, list[float]]
    skill_shares_non_degree: list[float]
    shortage_occupation_share: float = Prob
    sector_shares_by_tier: dict[str, list[float]]
    productivity_sigma: float = Field(ge=0)
    child_probability: float = Prob
    months_in_city_mean_2010: float = Field(gt=0)
    employment_rate_2010: float = Prob
    permit_months_share_2010: float = Prob
    permit_share_2010: float = Prob
    formal_job_share: list[float]
    housing_shares: dict[str, list[float]]
    registered_lease_share: float = Prob
    person_records: PersonRecords
    unemployment_insurance_lag: UnemploymentInsuranceLag
    home_purchase_rate: ByTier
    job_separation_rate: ByTier
    job_finding_rate: float = Field(ge=0)
    reconsider_rate: float = Prob
    beta_wage: float
    beta_rent: float
    beta_commute: float
    beta_service: float
    beta_prospect: float
    beta_network: float
    beta_size: float = Field(ge=0)
    size_jobs_weight: float = Prob
    move_cost_within_city: float
    move_cost_between_cities: float
    origin_cost: dict[str, dict[str, float]]
    outside_utility: dict[str, float]
    settled_outside_penalty: float
    prospect_horizon_years: int = Field(ge=0, le=20)
    wage_index_2010: dict[str, list[float]]
    zone_wage_premium: list[float]
    zone_rent_2010: list[float]
    zone_commute: list[float]
    rent_elasticity: float = Field(ge=0)
    rent_adjustment_per_year: float = Prob
    wage_elasticity: float = Field(ge=0)
    vacancy_rate: float = Field(ge=0, le=1)
    housing_growth_per_year: list[float]
    housing_supply_elasticity: list[float]
    job_growth_per_year: ByTier
    school_places_for_migrants_2010: float = Field(ge=0)
    school_places_growth_per_year: float
    native_school_age_share: float = Prob
    native_growth_per_year: float
    native_relocation_per_year: float = Field(ge=0.0, le=1.0)
    retirement_age: dict[str, int]
    retirement_return_probability: float = Prob
    native_bachelor_share: dict[str, float]

    @model_validator(mode="after")
    def _every_city(self) -> Behaviour:
        """The per-city tables have a value for every city of ``policies/data/cities.csv`` (a city added there
        without its behavioural rows is refused here, naming the table, not as a KeyError in the middle of a run)."""
        tables: dict[str, dict[str, Any]] = {
            **{f"origin_cost.{o}": v for o, v in self.origin_cost.items()},
            "wage_index_2010": self.wage_index_2010, "native_bachelor_share": self.native_bachelor_share}
        for name, table in tables.items():
            missing = [c for c in CITIES if c not in table]
            if missing:
                raise ValueError(f"{name}: no value for {', '.join(missing)} (a city of policies/data/cities.csv; "
                                 "the defaults are in sim/data/behaviour.yaml)")
        missing = sorted({t for t in OUT_OF_PROVINCE_TABLE.values() if t not in self.origin_of_out_of_province})
        if missing:
            raise ValueError(f"origin_of_out_of_province: no row {', '.join(missing)} (out_of_province_table of "
                             "policies/data/cities.csv)")
        return self


@cache
def _defaults() -> tuple[dict[str, Any], dict[str, str]]:
    text = resources.files("sim.data").joinpath("behaviour.yaml").read_text(encoding="utf-8")
    file = "sim/data/behaviour.yaml"
    doc = load_yaml_text(text, file)
    values, provenance = {}, {}
    for name, raw in doc.items():
        (entry,) = parse_entries(raw, file=file, line=doc.lines.get(name), path=name)
        values[name] = entry.value
        provenance[name] = entry.provenance
    unknown = set(values) - set(Behaviour.model_fields)
    if unknown:
        name = sorted(unknown)[0]
        raise InputError("unknown behavioural parameter", file=file, line=doc.lines.get(name), field=name)
    return values, provenance


@cache
def _calibrated() -> tuple[dict[str, Any], dict[str, Any]]:
    """The calibrated values by dotted path, and the file's provenance block (both empty without the file)."""
    path = resources.files("sim.data").joinpath("calibrated.yaml")
    if not path.is_file():
        return {}, {}
    file = "sim/data/calibrated.yaml"
    doc = load_yaml_text(path.read_text(encoding="utf-8"), file) or {}
    params = doc.get("parameters") or {}
    values = {}
    for name, entry in params.items():
        if not isinstance(entry, dict) or "value" not in entry:
            raise InputError("a calibrated parameter needs a value", file=file,
                             line=getattr(params, "lines", {}).get(name), field=f"parameters.{name}")
        values[str(name)] = entry["value"]
    return values, dict(doc.get("provenance") or {})


def _set_path(values: dict[str, Any], path: str, value: Any) -> None:
    """Set a dotted path (``outside_utility.central``, ``zone_rent_2010.0``) inside nested dicts and lists."""
    *parents, last = path.split(".")
    node: Any = values
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    elif last in node:
        node[last] = value
    else:
        raise InputError("unknown behavioural parameter", file="sim/data/calibrated.yaml", field=path)


def calibrated_parameters() -> dict[str, Any]:
    """The calibrated values by dotted path (empty when no calibration is installed)."""
    return dict(_calibrated()[0])


def default_behaviour(calibrated: bool = True) -> Behaviour:
    """The default behavioural parameters: behaviour.yaml's priors with the calibrated values applied on top."""
    values = copy.deepcopy(_defaults()[0])
    if calibrated:
        for path, value in _calibrated()[0].items():
            _set_path(values, path, value)
    return Behaviour(**values)


def behaviour_provenance() -> dict[str, str]:
    """The ``ref`` or ``assumption: …`` of each default behavioural parameter (calibrated ones say so first)."""
    provenance = dict(_defaults()[1])
    values, meta = _calibrated()
    by_name: dict[str, list[str]] = {}
    for path in values:
        by_name.setdefault(path.split(".")[0], []).append(path)
    for name, paths in by_name.items():
        fitted = ", ".join(f"{p}={values[p]:g}" for p in paths)
        provenance[name] = (f"ref: calibrated (sim/data/calibrated.yaml, {meta.get('method_short', 'calibration')}, "
                            f"{meta.get('date', 'undated')}: {fitted}) | prior: {provenance[name]}")
    return provenance
