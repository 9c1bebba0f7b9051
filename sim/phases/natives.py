"""Natives choose their district again: hukou natives follow new housing and leave districts whose rents rise.

Why: natives are counts per district, not agents, and until they moved they stayed where the 2010 census found
them, so a city's new towns could fill only with migrants, and a core crowded by migrants kept every native it had.
Moves within cities are large: the 2020 census counts 117 m people living in their city's districts away from the
street of their hukou, three times the 2010 count (`native_relocation_per_year` in ``sim/data/behaviour.yaml``).

Each year a share ``m`` of a city's natives (``native_relocation_per_year``) chooses a district of the city by a
logit with the terms of the migrants' choice that concern a home: a size term, the log of the district's housing
(coefficient 1, the field's convention), and its rent (``beta_rent``, the migrants' weight), plus a constant per
district. The constants are fixed on the census day in closed form, ``α_d = ln(N_d,2010 / H_d,2010) + β_r ln
r_d,2010``, so that the choice probabilities then equal the natives' census shares: with housing and rents as on
the census day nobody's district changes in expectation, and the census-day state stays put. What moves natives
afterwards is the mechanisms: housing built (zone trends, supply answering rents, new areas, renewal) and rents
raised by crowding. In expectation, over a step of ``Δ`` months::

    N_d ← N_d + (1 − (1 − m)^(Δ/12)) · (p_d · N_city − N_d)
    p_d ∝ N_d,2010 · (H_d / H_d,2010) · (r_d / r_d,2010)^(−β_r)      (within the city)

Natives are counts, so the flow is its expectation (no draws): a city's natives are conserved by the move.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.districts import DistrictState
    from sim.geography import Geography
    from sim.params import Behaviour

__all__ = ["relocate_natives", "native_choice_shares"]


def native_choice_shares(state: DistrictState, geo: Geography, beta_rent: float) -> np.ndarray:
    """Each district's probability of being chosen by a native of its city who moves (sums to 1 per city)."""
    pull = (geo.natives_2010 * (state.housing_stock / state.housing_2010)
            * np.power(state.rent / state.rent_2010, -beta_rent))
    totals = np.bincount(geo.city, weights=pull, minlength=int(geo.city.max()) + 1)
    return np.divide(pull, totals[geo.city], out=np.zeros_like(pull), where=totals[geo.city] > 0)


def relocate_natives(state: DistrictState, geo: Geography, b: Behaviour, months: int) -> None:
    """Move the expected share of each city's natives to the districts they would choose now (in place)."""
    if b.native_relocation_per_year <= 0:
        return
    moving = 1 - (1 - b.native_relocation_per_year) ** (months / 12)
    city_natives = np.bincount(geo.city, weights=state.natives, minlength=int(geo.city.max()) + 1)
    target = native_choice_shares(state, geo, b.beta_rent) * city_natives[geo.city]
    state.natives += moving * (target - state.natives)
