"""Settlement rounds: once a year, in each channel's round month, migrants obtain local hukou through the city's
channels in force — direct approval (talent, tax), yearly chances (policy/family entry) and quota rounds that rank
applicants by the regime's own rule (for example Guangzhou 2011–15: months of medical insurance)."""

from __future__ import annotations

import numpy as np

from policies.regime import ActiveMechanism
from sim.government import CityGovernment, RoundResult
from sim.phases.migration import stochastic_round

__all__ = ["settlement_rounds", "CHANNEL_KINDS"]

CHANNEL_KINDS = ("direct", "hazard", "quota")  # processing order within a round
DEFAULT_ROUND_MONTH = 10


def _rank(keys: list[np.ndarray], lottery: np.ndarray) -> np.ndarray:
    """Order of applicants, best first: by each key in turn (larger is better), then by lottery."""
    return np.lexsort([lottery, *[-np.asarray(k, dtype=np.float64) for k in reversed(keys)]])


def _quota_round(model, gov: CityGovernment, mech: ActiveMechanism, rows: np.ndarray, persons, points,  # noqa: ANN001
                 applying: np.ndarray, factors: dict[str, float]) -> np.ndarray:
    """Admit applicants up to the quota in the rule's ranking order; publish the cut-off and queue."""
    rng = model.rng
    applicants = np.flatnonzero(applying)
    quota_persons = float(mech.params["quota"]) * factors.get(mech.name, 1.0)
    quota = stochastic_round(rng, quota_persons / model.scale)
    result = RoundResult(queue=len(applicants))
    if len(applicants) and quota > 0:
        sub = persons.take(applicants)
        sub_points = None if points is None else type(points)(points.total[applicants],
                                                              {k: v[applicants] for k, v in points.parts.items()})
        keys = [np.asarray(k, dtype=np.float64) for k in mech.rules.rank_keys(sub, mech.params, sub_points)]
        order = _rank(keys, rng.random(len(applicants)))
        take = min(quota, len(applicants))
        within_quota = take
        if take < len(applicants) and hasattr(mech.rules, "admit_ties") and mech.rules.admit_ties(mech.params):
            last = order[take - 1]
            tied = np.all([k[order[take:]] == k[last] for k in keys], axis=0)
            take += int(np.cumprod(tied).sum())  # the remaining ties at the cut-off are all admitted
        admitted = order[:take]
        primary = keys[0]
        result = RoundResult(
            cutoff_key=float(primary[admitted[-1]]),
            cutoff_points=None if points is None else float(points.total[applicants][admitted].min()),
            key_spread=float(np.std(primary)) or 1.0, admitted=take, queue=len(applicants) - take)
        chosen = np.zeros(len(rows), dtype=bool)
        chosen[applicants[admitted]] = True
    else:
        chosen = np.zeros(len(rows), dtype=bool)
    gov.published.rounds[mech.name] = result
    ties = int(chosen.sum()) - within_quota if len(applicants) and quota > 0 else 0
    model.round_log.append({"year": model.date.year, "city": gov.city, "channel": mech.name,
                            "quota_agents": quota, "applicants": len(applicants), "admitted": int(chosen.sum()),
                            "ties_admitted": ties})
    return chosen


def settlement_rounds(model) -> None:  # noqa: ANN001
    """Run every channel whose round falls in this step, city by city."""
    pop, rng, geo = model.population, model.rng, model.geography
    for gov in model.governments:
        due = [m for m in gov.channels()
               if model.clock.contains_month(model.t, int(m.params.get("round_month", DEFAULT_ROUND_MONTH)))]
        if not due:
            continue
        district = pop["district"]
        rows = np.flatnonzero((district >= 0) & (pop["settled"] < 0)
                              & (geo.city[np.maximum(district, 0)] == gov.city_index))
        if len(rows) == 0:
            continue
        persons = model.persons(rows)
        points = gov.points(persons)
        open_ = np.ones(len(rows), dtype=bool)
        factors = gov.quota_factors(model.control_state(gov))
        for kind in CHANNEL_KINDS:
            for mech in (m for m in due if m.rules.KIND == kind):
                eligible = mech.rules.eligible(persons, mech.params, points).eligible & open_
                if points is not None and "min_score" in mech.params:
                    eligible &= points.total >= mech.params["min_score"]
                if kind == "hazard":
                    chosen = eligible & (rng.random(len(rows)) < float(mech.params["rate"]))
                else:
                    applying = eligible & (rng.random(len(rows)) < float(mech.params.get("take_up", 1.0)))
                    chosen = applying if kind == "direct" else _quota_round(
                        model, gov, mech, rows, persons, points, applying, factors)
                settle(model, gov, mech, rows[chosen])
                open_ &= ~chosen


def settle(model, gov: CityGovernment, mech: ActiveMechanism, rows: np.ndarray) -> None:  # noqa: ANN001
    """Give local hukou to the migrants at ``rows`` through channel ``mech``."""
    pop = model.population
    code = model.channel_code(mech.name, mech.rules.CHANNEL)
    pop["settled"][rows] = code
    pop["settle_step"][rows] = model.t
    pop["permit"][rows] = False
    gov.settled_this_year[mech.name] = gov.settled_this_year.get(mech.name, 0) + len(rows) * model.scale
    model.flows.add_settlements(mech.rules.CHANNEL, pop["district"][rows], pop["education"][rows] >= 5,
                                pop["months_in_city"][rows])
    model.events.add("settle", pop["uid"][rows], model.t, code)
