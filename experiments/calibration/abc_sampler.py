"""pyabc's ABC-SMC with every model evaluation made as one sweep batch (experiments/calibration/abc.py).

pyabc's samplers call ``simulate_one()`` once per particle: it proposes a parameter set (from the prior or by
perturbing the last population), asks the model for its summary statistics and lets the acceptor decide. A sweep
wants the opposite shape: many parameter sets at once, run in parallel by local processes or Dask, recorded in a
ledger. ``SweepBatchSampler`` bridges the two without touching pyabc's logic:

1. *propose*: for each particle ``i`` of batch ``b`` of generation ``t`` the global NumPy generator (the one pyabc
   draws from) is seeded with ``SeedSequence(root, spawn_key=(t + 1, b, i))`` and ``simulate_one()`` is called
   with the model in collecting mode: the model records the proposed parameters and stops the call;
2. *run*: the batch of proposals becomes one sweep (``evaluate``), whose summary statistics the model caches;
3. *evaluate*: each particle's ``simulate_one()`` is called again from the same seed, so it proposes the same
   parameters, and this time the model answers from the cache and pyabc's acceptor decides as it always does.

Particles are taken in proposal order until ``n`` are accepted (what pyabc's single-core sampler does); a batch
that falls short is followed by another. Because every proposal is a function of its seed and the previous
populations, the same spec reproduces the same batches: a calibration that is run again (after a crash, or
simply again) replays pyabc from the start and finds every finished batch in its sweep ledger.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pyabc
from pyabc.sampler import Sampler

__all__ = ["SweepModel", "SweepBatchSampler", "Evaluate"]

# evaluate(label, proposals) -> one summary-statistics dict per proposal, in order
Evaluate = Callable[[str, list[dict[str, float]]], list[dict[str, float]]]


class _Proposed(Exception):
    """Raised by the model in collecting mode once it has recorded a proposal."""


class SweepModel(pyabc.Model):
    """A pyabc model whose simulations were run beforehand by a sweep: it records proposals, then answers from
    the cache of their summary statistics, keyed by the exact parameter values."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(name="hukou")
        self.names = list(names)
        self.collecting = False
        self.proposals: list[dict[str, float]] = []
        self.cache: dict[tuple[float, ...], dict[str, float]] = {}

    def key(self, pars: Any) -> tuple[float, ...]:
        """The cache key of a parameter set: its values in the names' order."""
        return tuple(float(pars[n]) for n in self.names)

    def sample(self, pars: Any) -> dict[str, float]:
        """The summary statistics of ``pars`` (collecting mode: record the proposal and stop the call)."""
        if self.collecting:
            self.proposals.append({n: float(pars[n]) for n in self.names})
            raise _Proposed
        return self.cache[self.key(pars)]


class SweepBatchSampler(Sampler):
    """A pyabc sampler whose particles are proposed in batches and simulated by one sweep per batch."""

    def __init__(self, model: SweepModel, evaluate: Evaluate, root_seed: int, max_batch: int,
                 progress: Callable[[str], None] | None = None) -> None:
        super().__init__()
        self.model = model
        self.evaluate = evaluate
        self.root_seed = root_seed
        self.max_batch = max_batch
        self.rate = 0.5  # the acceptance rate expected of the next generation (then the last one's)
        self.batches: list[dict[str, Any]] = []

    def _seed(self, t: int, b: int, i: int) -> int:
        return int(np.random.SeedSequence(self.root_seed, spawn_key=(t + 1, b, i)).generate_state(1)[0])

    def _size(self, missing: int, rate: float, room: float) -> int:
        """Particles to propose for ``missing`` acceptances at acceptance ``rate``, with a margin of 20%; never
        more than ``max_batch`` or the evaluations left."""
        size = max(missing, math.ceil(missing / max(rate, 0.01) * 1.2) + 1)
        return int(max(1, min(size, self.max_batch, room)))

    def sample_until_n_accepted(self, n: int, simulate_one: Callable[[], Any], t: int, *,
                                max_eval: float = np.inf, all_accepted: bool = False,
                                ana_vars: Any = None) -> Any:
        """Propose, run and evaluate batches until ``n`` particles are accepted (pyabc's Sampler contract)."""
        del ana_vars
        state = np.random.get_state()  # noqa: NPY002 - pyabc draws from it
        sample = self._create_empty_sample()
        accepted = evaluated = b = 0
        try:
            while accepted < n and evaluated < max_eval:
                # the rate: 1 for the prior sample, then the last generation's, then this generation's own so far
                # (smoothed, never 0). A run past the last acceptance costs seconds of a worker; a batch too
                # small costs one more sweep's start-up, about as much: so a small margin (×1.2)
                rate = 1.0 if all_accepted else (self.rate if not evaluated else (accepted + 1) / (evaluated + 2))
                size = self._size(n - accepted, rate, max_eval - evaluated)
                seeds = [self._seed(t, b, i) for i in range(size)]
                self.model.collecting, self.model.proposals = True, []
                for seed in seeds:
                    np.random.seed(seed)  # noqa: NPY002 - pyabc draws from it
                    try:
                        simulate_one()
                    except _Proposed:
                        continue
                    raise RuntimeError("the model was not asked for the proposal")  # pragma: no cover
                self.model.collecting = False
                proposals = self.model.proposals
                label = ("prior" if t < 0 else f"gen{t:02d}") + f"-b{b:02d}"
                stats = self.evaluate(label, proposals)
                self.model.cache = {self.model.key(p): s for p, s in zip(proposals, stats, strict=True)}
                used = 0
                for seed in seeds:
                    np.random.seed(seed)  # noqa: NPY002 - pyabc draws from it
                    particle = simulate_one()
                    sample.append(particle)
                    used += 1
                    evaluated += 1
                    accepted += int(particle.accepted)
                    if accepted >= n:
                        break
                self.batches.append({"t": t, "batch": b, "label": label, "proposed": size, "used": used})
                b += 1
        finally:
            self.model.collecting = False
            self.model.cache = {}
            np.random.set_state(state)  # noqa: NPY002 - pyabc draws from it
        self.nr_evaluations_ = evaluated
        if not all_accepted and evaluated:
            self.rate = accepted / evaluated
        if accepted < n:
            sample.ok = False
        return sample
