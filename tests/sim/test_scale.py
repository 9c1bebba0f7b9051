"""Scale: persons per agent changes the sampling noise, not the shares."""

from __future__ import annotations

import numpy as np

from sim.config import RunConfig
from sim.model import HukouModel

SHARES = ("hukou_share", "suburban_dispersion_migrants", "permit_coverage", "talent_share_migrants")


def _shares(scale: float) -> tuple[dict, dict]:
    city = HukouModel(RunConfig(scale=scale, end=2014, seed=2)).run().city_year()
    last = city[city["year"] == city["year"].max()].set_index("city")
    return last, last["migrants"] / scale


def test_shares_at_two_scales_agree_within_sampling_error() -> None:
    fine, fine_agents = _shares(1000)
    coarse, coarse_agents = _shares(4000)
    for city in fine.index:
        for share in SHARES:
            p1, p2 = fine.loc[city, share], coarse.loc[city, share]
            # binomial standard errors of both runs, with a factor for the model's own dynamics
            se = np.sqrt(p1 * (1 - p1) / fine_agents[city] + p2 * (1 - p2) / coarse_agents[city])
            assert abs(p1 - p2) < 5 * se + 0.01, (city, share, p1, p2)
