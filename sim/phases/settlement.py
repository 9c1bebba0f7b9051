"""Settlement rounds: once a year, in each channel's round month, migrants obtain local hukou through the city's
channels in force — direct approval (talent, tax), yearly chances (policy/family entry) and quota rounds that rank
applicants by the regime's own rule (for example Guangzhou 2011–15: months of medical insurance)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from policies.allocation import admit, channel_chance, places
from policies.decision import Points
from policies.regime import ActiveMechanism
from policies.schema import Persons
from sim.government import CityGovernment, RoundResult
from sim.parallel import ordered_map, split_rows
from sim.phases.migration import stochastic_round
from sim.population import MigrantBatch
from sim.sampling import bernoulli_rows

if TYPE_CHECKING:
    from sim.model import HukouModel

__all__ = ["settlement_rounds"]

PER_PERSON_KINDS = ("direct", "hazard")  # decided chunk by chunk, before the quota rounds rank their applicants
CHUNK = 65_536


@dataclass
class _Applicants:
    """A quota channel's applicants gathered over chunks of the city's migrants: rows, ranking keys, points."""

    rows: list[np.ndarray] = field(default_factory=list)
    keys: list[list[np.ndarray]] = field(default_factory=list)
    points: list[np.ndarray] = field(default_factory=list)

    def add(self, rows: np.ndarray, keys: list[np.ndarray], points: np.ndarray | None) -> None:
        self.rows.append(rows)
        self.keys.append([np.asarray(k, dtype=np.float64) for k in keys])
        self.points.append(np.full(len(rows), np.nan) if points is None else np.asarray(points, np.float64))

    def gathered(self) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
        if not self.rows:
            return np.zeros(0, dtype=np.int64), [], np.zeros(0)
        n_keys = len(self.keys[0])
        keys = [np.concatenate([chunk[i] for chunk in self.keys]) for i in range(n_keys)]
        return np.concatenate(self.rows), keys, np.concatenate(self.points)


def _quota_round(model: HukouModel, gov: CityGovernment, mech: ActiveMechanism, applicants: _Applicants,
                 factors: dict[str, float]) -> np.ndarray:
    """Admit applicants up to the quota in the rule's ranking order; publish the cut-off and queue.

    Returns the rows admitted.
    """
    rng = model.rng
    rows, keys, points = applicants.gathered()
    still_open = model.population["settled"][rows] < 0   # an earlier channel of this round may have settled them
    rows, points = rows[still_open], points[still_open]
    keys = [k[still_open] for k in keys]
    quota = stochastic_round(rng, places(mech.params["quota"], factors.get(mech.name, 1.0), model.scale))
    # No place this year: the published cut-off is out of reach (prospects then see no chance, not certainty).
    result = RoundResult(queue=len(rows), cutoff_key=float("inf") if len(rows) else None, year=model.date.year)
    admitted = np.zeros(0, dtype=np.int64)
    ties = 0
    if len(rows) and quota > 0:
        admission = admit(keys, quota, rng.random(len(rows)), admit_ties=mech.as_quota.admit_ties(mech.params))
        chosen, ties = admission.chosen, admission.ties
        take = len(chosen)
        admitted = rows[chosen]
        result = RoundResult(
            cutoff_key=float(keys[0][chosen[-1]]),
            cutoff_points=None if np.isnan(points).all() else float(np.nanmin(points[chosen])),
            key_spread=float(np.std(keys[0])) or 1.0, admitted=take, queue=len(rows) - take, year=model.date.year)
    gov.published_rounds[mech.name] = result
    model.round_log.append({"year": model.date.year, "city": gov.city, "channel": mech.name,
                            "quota_agents": quota, "applicants": len(rows), "admitted": len(admitted),
                            "ties_admitted": ties})
    return admitted


def settlement_rounds(model: HukouModel) -> None:
    """Run every channel whose round falls in this step, city by city.

    Direct and yearly-chance channels decide person by person, so the city's migrants are processed in chunks
    (bounded memory); quota channels gather their applicants' ranking keys over the chunks and rank them together.
    Each channel's chance (take-up, or the yearly rate) is drawn first and its rule is evaluated only for those
    drawn: the same chance of settling (drawn and eligible, independently), for a third of the work or less.
    """
    pop, rng, geo = model.population, model.rng, model.geography
    for gov in model.governments:
        due = [m for m in gov.channels()
               if model.clock.contains_month(model.t, int(m.params["round_month"]))]
        if not due:
            continue
        district = pop["district"]
        rows = np.flatnonzero((district >= 0) & (pop["settled"] < 0)
                              & (geo.city[np.maximum(district, 0)] == gov.city_index))
        factors = gov.quota_factors(model.control_state(gov))
        in_order = [m for kind in (*PER_PERSON_KINDS, "quota") for m in due if m.as_channel.KIND == kind]
        quota_channels = [m for m in in_order if m.as_channel.KIND == "quota"]
        applicants = {m.name: _Applicants() for m in quota_channels}
        chunks = split_rows(model, rows, CHUNK)

        def drawn(chunks: list[np.ndarray] = chunks, in_order: list = in_order
                  ) -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
            """Each chunk with its draws, made here in chunk and channel order (sim.parallel)."""
            chances = {m.name: channel_chance(m.as_channel.KIND, m.params) for m in in_order}
            for chunk in chunks:
                yield chunk, {name: _drawn(rng, len(chunk), chance, model.threads) for name, chance in chances.items()}

        def decide(item: tuple, gov: CityGovernment = gov, in_order: list = in_order) -> tuple[dict, dict]:
            return _decide_chunk(model, gov, in_order, *item)

        for settled, queued in ordered_map(decide, drawn(), model.threads):
            for mech in in_order:
                if mech.name in settled:
                    settle(model, gov, mech, settled[mech.name])
            for name, (queue_rows, keys, points) in queued.items():
                applicants[name].add(queue_rows, keys, points)
        for mech in quota_channels:
            settle(model, gov, mech, _quota_round(model, gov, mech, applicants[mech.name], factors))


def _drawn(rng: np.random.Generator, n: int, chance: float, threads: int) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[bernoulli_rows(rng, n, chance, threads=threads)] = True
    return mask


def _take_points(points: Points | None, index: np.ndarray) -> Points | None:
    return None if points is None else Points(points.total[index], {k: v[index] for k, v in points.parts.items()})


def _decide_chunk(model: HukouModel, gov: CityGovernment, in_order: list[ActiveMechanism], chunk: np.ndarray,
                  draws: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[str, tuple]]:
    """Rules only, no random draw (it may run on a thread): the rows each direct or hazard channel settles, in
    order (a migrant settles once), and each quota channel's applicants with their ranking keys and points."""
    candidates = np.flatnonzero(np.logical_or.reduce(list(draws.values())))
    persons = model.persons(chunk[candidates])
    points = gov.points(persons) if len(candidates) else None
    still_open = np.ones(len(candidates), dtype=bool)
    settled: dict[str, np.ndarray] = {}
    queued: dict[str, tuple] = {}
    for mech in in_order:
        idx = np.flatnonzero(draws[mech.name][candidates] & still_open)
        if len(idx) == 0:
            continue
        idx = idx[_eligible(mech, persons.take(idx), _take_points(points, idx))]
        if mech.as_channel.KIND != "quota":
            settled[mech.name] = chunk[candidates[idx]]
            still_open[idx] = False
        elif len(idx):
            keys = mech.as_quota.rank_keys(persons.take(idx), mech.params, _take_points(points, idx))
            queued[mech.name] = (chunk[candidates[idx]], keys, None if points is None else points.total[idx])
    return settled, queued


def _eligible(mech: ActiveMechanism, persons: Persons | MigrantBatch, points: Points | None
              ) -> np.ndarray:
    """Who meets the channel's rule. A minimum score is the rule's own condition (``score_min`` in
    policies/conditions.py, set from the points channel's ``min_score``), checked there and only there."""
    return mech.as_channel.eligible(persons, mech.params, points).eligible


def settle(model: HukouModel, gov: CityGovernment, mech: ActiveMechanism, rows: np.ndarray) -> None:
    """Give local hukou to the migrants at ``rows`` through channel ``mech``."""
    pop = model.population
    code = model.channel_code(mech.name)
    pop["settled"][rows] = code
    pop["settle_step"][rows] = model.t
    pop["permit"][rows] = False
    gov.settled_this_year[mech.name] = gov.settled_this_year.get(mech.name, 0) + len(rows) * model.scale
    model.flows.add_settlements(mech.as_channel.CHANNEL, pop["district"][rows], pop["education"][rows] >= 5,
                                pop["months_in_city"][rows])
    model.events.add("settle", pop["uid"][rows], model.t, code)
