"""Drawing migrants' attributes at arrival (and for the 2010 stock) from the distributions in ``behaviour.yaml``.

All draws are vectorised; each block of migrants draws from a generator seeded from the model's one generator.
"""

from __future__ import annotations

import numpy as np

from policies.schema import EDUCATION
from sim.parallel import ordered_map
from sim.params import TIERS, Behaviour, PersonRecords
from sim.population import RECORD_BITS

assert set(RECORD_BITS) == set(PersonRecords.model_fields), "one share in behaviour.yaml person_records per record bit"

__all__ = ["TIER_OF_EDUCATION", "draw_migrants", "tier_of", "BLOCK"]

BLOCK = 1 << 18  # migrants per generator

# Skill tier of each education code: low = junior high or less, mid = high school to junior college, high = degree.
TIER_OF_EDUCATION = np.array([0, 0, 1, 1, 1, 2, 2, 2], dtype=np.int8)
assert len(TIER_OF_EDUCATION) == len(EDUCATION)


def tier_of(education: np.ndarray) -> np.ndarray:
    """Skill tier (0 low, 1 mid, 2 high) of each education code."""
    return TIER_OF_EDUCATION[education]


def _categorical(rng: np.random.Generator, shares: list[float] | np.ndarray, n: int) -> np.ndarray:
    """``n`` draws of category indices with probabilities ``shares`` (normalised)."""
    p = np.asarray(shares, dtype=np.float64)
    cdf = np.cumsum(p / p.sum())
    return np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(p) - 1).astype(np.uint8)


def _by_group(rng: np.random.Generator, group: np.ndarray, tables: list[list[float]]) -> np.ndarray:
    """One categorical draw per person from the table of the person's group."""
    out = np.zeros(len(group), dtype=np.uint8)
    for g, shares in enumerate(tables):
        idx = np.flatnonzero(group == g)
        if len(idx):
            out[idx] = _categorical(rng, shares, len(idx))
    return out


def draw_migrants(rng: np.random.Generator, origin: np.ndarray, b: Behaviour, *, month_index: int, step: int,
                  stock_2010: bool = False, threads: int = 1) -> dict[str, np.ndarray]:
    """Attributes of new migrants from ``origin`` (origin-region codes), as columns (``district`` excluded).

    With ``stock_2010`` the migrants are the census-day stock: they already have months in the city, social
    insurance and possibly a permit (set by the model after it places them). Each block of ``BLOCK`` migrants
    draws from its own generator, seeded from ``rng`` in block order, so blocks can be drawn on ``threads``
    threads with the same result for any number of them (``sim.parallel``).
    """
    starts = range(0, max(len(origin), 1), BLOCK)
    seeds = rng.integers(2**63, size=len(starts))

    def block(i: int) -> dict[str, np.ndarray]:
        return _draw_block(np.random.default_rng(seeds[i]), origin[starts[i]:starts[i] + BLOCK], b,
                           month_index=month_index, stock_2010=stock_2010)

    blocks = list(ordered_map(block, range(len(starts)), threads))
    if len(blocks) == 1:
        return blocks[0]
    return {name: np.concatenate([columns[name] for columns in blocks]) for name in blocks[0]}


def _draw_block(rng: np.random.Generator, origin: np.ndarray, b: Behaviour, *, month_index: int,
                stock_2010: bool) -> dict[str, np.ndarray]:
    n = len(origin)
    rural = rng.random(n) < b.rural_share
    education = _by_group(rng, (~rural).astype(np.int8), [b.education_shares["rural"], b.education_shares["urban"]])
    tier = tier_of(education)
    age_years = np.clip(rng.normal(b.age_mean, b.age_sd, n), 16, 59)
    birth_month = (month_index - np.floor(age_years * 12)).astype(np.int16)

    title_group = np.where(education >= 5, 2, np.where(education == 4, 1, 0)).astype(np.int8)
    t = b.title_shares_by_education
    title = _by_group(rng, title_group, [t["below_college"], t["junior_college"], t["bachelor_plus"]])
    skill = np.where(education < 4, _categorical(rng, b.skill_shares_non_degree, n), 0).astype(np.uint8)
    sector = _by_group(rng, tier, [b.sector_shares_by_tier[name] for name in TIERS])
    housing = _by_group(rng, tier, [b.housing_shares[name] for name in TIERS])
    stable_home = (housing != 0) | (rng.random(n) < b.registered_lease_share)
    formal = rng.random(n) < np.asarray(b.formal_job_share)[education]

    age_now = age_years.astype(np.int32)
    children = ((age_now >= 25) & (age_now < 45) & (rng.random(n) < b.child_probability)).astype(np.uint8)
    if stock_2010:
        months = np.clip(rng.exponential(b.months_in_city_mean_2010, n), 0, (age_years - 16) * 12)
        months = months.astype(np.uint16)   # at most (59 − 16) × 12 months: no risk of overflow
        employed = rng.random(n) < b.employment_rate_2010
    else:
        months = np.zeros(n, dtype=np.uint16)
        employed = np.zeros(n, dtype=bool)
    si_months = np.where(formal & employed, months, 0).astype(np.uint16)
    records = _records(rng, b.person_records, education >= 5, n)
    columns = {
        "settled": np.full(n, -1, dtype=np.int8),
        "permit": np.zeros(n, dtype=bool),
        "birth_month": birth_month,
        "sex": (rng.random(n) < b.male_share).astype(np.uint8),
        "education": education,
        "tier": tier.astype(np.uint8),
        "full_time_degree": (education >= 4) & (rng.random(n) < b.full_time_degree_share),
        "title": title,
        "skill": skill,
        "shortage": rng.random(n) < b.shortage_occupation_share,
        "sector": sector,
        "productivity": rng.lognormal(-0.5 * b.productivity_sigma**2, b.productivity_sigma, n).astype(np.float32),
        "origin": origin.astype(np.uint8),
        "rural": rural,
        "children": children,
        "months_in_city": months,
        "si_months": si_months,
        "permit_months": np.zeros(n, dtype=np.uint16),
        "housing": housing,
        "stable_home": stable_home,
        "employed": employed,
        "formal": formal,
        "settle_step": np.full(n, -1, dtype=np.int16),
        "school_level": np.zeros(n, dtype=np.uint8),   # unranked until the next school year
        "records": records,
    }
    # Drawn last, after the columns above (some draw as they are built): every other attribute is drawn as before
    # the lag existed, so a run with a share of 0 is the run without it.
    columns["ui_lag"] = _ui_lag(rng, b, records, n)
    return columns


def _records(rng: np.random.Generator, shares: PersonRecords, bachelor_plus: np.ndarray, n: int) -> np.ndarray:
    """The ``records`` bit flags (sim.population.RECORD_BITS), each drawn independently with its share
    (behaviour.yaml person_records); patents only among migrants with a bachelor's degree or more."""
    records = np.zeros(n, dtype=np.uint8)
    for name, bit in RECORD_BITS.items():
        has = rng.random(n, dtype=np.float32) < getattr(shares, name)
        if name.endswith("_patent"):
            has &= bachelor_plus
        records |= has.astype(np.uint8) * np.uint8(bit)
    return records


def _ui_lag(rng: np.random.Generator, b: Behaviour, records: np.ndarray, n: int) -> np.ndarray:
    """Months each migrant's unemployment insurance began after the medical insurance (behaviour.yaml
    unemployment_insurance_lag): for a share of those who have it, 1 to ``max_months`` months, uniform; 0 for the
    rest and for those without it (the record ``no_unemployment_insurance``), whose months are none anyway."""
    lag = b.unemployment_insurance_lag
    has = rng.random(n, dtype=np.float32) < lag.share
    months = rng.integers(1, lag.max_months + 1, size=n, dtype=np.int16)
    has &= (records & RECORD_BITS["no_unemployment_insurance"]) == 0
    return np.where(has, months, 0).astype(np.uint8)
