"""The posterior on history matching's emulators: the Gaussian processes stand in for the model in the likelihood,
and emcee samples it (``hukou calibrate --method history --emulator-posterior``; docs/validation.md).

Why: ABC-SMC's stochastic acceptor is exact at temperature 1, but there it accepts a run with the probability of
its likelihood. Every run's seed noise on every target multiplies in, and with 56 targets at 2,000 persons per
agent the acceptance collapsed (docs/validation.md, "The first ABC-SMC run"). History matching's last wave
already has, for each target, an emulator of the model's response and its uncertainty anywhere in the box, so the
likelihood becomes a formula:

    log L(x) = Σ_i log N(z_i; μ_i(x), σ_i² + δ² + s_i(x)²)

where ``μ_i`` and ``s_i²`` are the emulator's mean and predictive variance. The variance holds the white-noise
term, one run's seed noise, which the ABC likelihood holds too. ``σ_i`` and ``δ`` are as in every calibration, and
a one-sided target counts only a shortfall. The prior is uniform over the box, restricted to the region not ruled
out by any wave. The posterior outside that region is negligible by construction, and the last wave's emulators,
fitted inside it, would extrapolate outside. This is the usual pairing of history matching and calibration
(Kennedy and O'Hagan 2001; Andrianakis et al. 2015).

emcee's affine-invariant ensemble sampler (Foreman-Mackey et al. 2013) draws from it. It is a well-kept library
made for this (a likelihood one can evaluate but whose gradient one cannot), it needs no tuning of step sizes
across parameters of different scales, and it evaluates a whole ensemble at once, which the emulators' batched
predictions make cheap. The walkers start at the most likely NROY candidates, the first ``BURN`` steps are
discarded, and ``DRAWS`` equally spaced states of the rest are the posterior sample. The seed is the spec's root
seed, so the same history matching gives the same sample.

This posterior is exact with respect to the emulators, not the model. The emulators' own uncertainty is in the
likelihood, and their validation (held-back runs within ±3 sd) is in the history matching's report. Running the
model at the posterior's draws (``hukou validate --posterior``) checks it against the model itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.calibration.abc import posterior_table, summarise_sample, weighted_correlations
from experiments.calibration.history_matching import HistoryResult, _predict, cut_measure, implausibility
from experiments.calibration.smm import CalibrationFailed
from experiments.calibration.spec import CalibrationSpec

__all__ = ["EmulatorPosterior", "Chain", "log_likelihood", "log_posterior", "sample_unit", "sample_posterior",
           "write_emulator_posterior",
           "FOLDER", "WALKERS_PER_PARAMETER", "STEPS", "BURN", "DRAWS"]

FOLDER = "posterior"  # the subfolder of the history matching's folder that holds the emulator posterior
WALKERS_PER_PARAMETER = 4  # emcee asks for at least two per parameter; more walkers mix in fewer steps
STEPS = 3000
BURN = 1000
DRAWS = 400


@dataclass
class EmulatorPosterior:
    """The posterior sample (equally weighted), its summary, the emulated predictive fit, and its provenance."""

    samples: pd.DataFrame  # one row per draw, a column per parameter (cast to the parameter's type)
    summary: pd.DataFrame  # per parameter: prior box, mean, sd, identification, 5/25/50/75/95% quantiles
    correlations: pd.DataFrame
    predictive: pd.DataFrame  # per fit target: observed, emulated predictive mean and 50%/90% intervals
    provenance: dict[str, Any] = field(default_factory=dict)
    estimate: dict[str, float | int] = field(default_factory=dict)  # the posterior mean, as the parameter's type


def log_likelihood(mean: np.ndarray, sd: np.ndarray, z: np.ndarray, var: np.ndarray,
                   at_least: np.ndarray) -> np.ndarray:
    """``log L`` per row of emulated means and sds (rows: points, columns: targets)."""
    gap = z[None, :] - mean
    gap = np.where(at_least[None, :], np.maximum(gap, 0.0), gap)
    total = var[None, :] + sd ** 2
    return -0.5 * np.sum(gap ** 2 / total + np.log(2 * np.pi * total), axis=1)


def log_posterior(result: HistoryResult, cutoff: float, rule: str) -> Callable[[np.ndarray], np.ndarray]:
    """The log posterior density on unit coordinates (rows of points), up to a constant: ``-inf`` outside the box
    or the NROY region of any wave, the last wave's emulated log likelihood inside."""
    obs = result.observations
    if obs is None or not result.waves:
        raise CalibrationFailed("no history-matching waves to build the emulator posterior on")
    earlier, last = result.waves[:-1], result.waves[-1].emulators

    def logp(unit: np.ndarray) -> np.ndarray:
        unit = np.atleast_2d(np.asarray(unit, dtype=float))
        out = np.full(len(unit), -np.inf)
        alive = np.all((unit >= 0.0) & (unit <= 1.0), axis=1)
        for wave in earlier:
            idx = np.flatnonzero(alive)
            if len(idx):
                alive[idx] = cut_measure(implausibility(wave.emulators, unit[idx], obs), rule) <= cutoff
        idx = np.flatnonzero(alive)
        if len(idx):
            mean, sd = _predict(last, unit[idx])
            gap = obs.z[None, :] - mean
            gap = np.where(obs.at_least[None, :], np.maximum(gap, 0.0), np.abs(gap))
            keep = cut_measure(gap / np.sqrt(obs.var[None, :] + sd ** 2), rule) <= cutoff
            out[idx[keep]] = log_likelihood(mean[keep], sd[keep], obs.z, obs.var, obs.at_least)
        return out

    return logp


def _start(logp: Callable[[np.ndarray], np.ndarray], candidates: np.ndarray, walkers: int,
           rng: np.random.Generator) -> np.ndarray:
    """The walkers' starting points: the most likely NROY candidates (distinct points, so the ensemble spans the
    space); when there are fewer, copies of them moved by a tiny seeded jitter inside the box."""
    lp = logp(candidates)
    finite = np.flatnonzero(np.isfinite(lp))
    if not len(finite):
        raise CalibrationFailed("no NROY candidate has a finite emulated likelihood: nothing to start from")
    best = finite[np.argsort(-lp[finite], kind="stable")][:walkers]
    start = candidates[best]
    if len(start) < walkers:
        extra = start[rng.integers(len(start), size=walkers - len(start))]
        start = np.vstack([start, np.clip(extra + rng.normal(0.0, 1e-3, extra.shape), 0.0, 1.0)])
    return start


@dataclass
class Chain:
    """Draws on unit coordinates and the sampler's diagnostics."""

    unit: np.ndarray  # (draws × parameters), equally weighted
    diagnostics: dict[str, Any]


def sample_unit(result: HistoryResult, *, cutoff: float, rule: str, seed: int, steps: int = STEPS,
                burn: int = BURN, draws: int = DRAWS) -> Chain:
    """``draws`` equally spaced states of an emcee run on the emulator posterior, on the box's unit coordinates."""
    import emcee

    if result.box is None or result.observations is None:
        raise CalibrationFailed("the history matching holds no box or targets")
    if not 0 <= burn < steps:
        raise ValueError("burn must be shorter than steps")
    box = result.box
    candidates = (result.nroy[result.names].to_numpy(float) - box[:, 0]) / (box[:, 1] - box[:, 0])
    if not len(candidates):
        raise CalibrationFailed("the NROY region is empty: no posterior to sample")
    d = len(result.names)
    walkers = max(WALKERS_PER_PARAMETER * d, 2 * d + 2)
    rng = np.random.default_rng(seed)
    logp = log_posterior(result, cutoff, rule)
    sampler = emcee.EnsembleSampler(walkers, d, logp, vectorize=True)
    sampler.random_state = np.random.RandomState(seed % 2**32).get_state()  # emcee draws from a legacy RandomState
    sampler.run_mcmc(_start(logp, candidates, walkers, rng), steps, progress=False)
    chain = sampler.get_chain(discard=burn, flat=True)
    tau = np.asarray(sampler.get_autocorr_time(discard=burn, quiet=True), dtype=float)
    pick = np.linspace(0, len(chain) - 1, draws).round().astype(int)
    return Chain(unit=chain[pick], diagnostics={
        "walkers": walkers, "steps": steps, "burn": burn, "draws": draws,
        "acceptance_fraction": float(np.mean(sampler.acceptance_fraction)),
        "autocorrelation_steps": {n: float(t) for n, t in zip(result.names, tau, strict=True)},
        "effective_samples": float(walkers * (steps - burn) / np.nanmax(tau))})


def sample_posterior(result: HistoryResult, spec: CalibrationSpec, *, steps: int = STEPS, burn: int = BURN,
                     draws: int = DRAWS) -> EmulatorPosterior:
    """Sample the emulator posterior of a history matching of ``spec`` (seeded by the spec's root seed)."""
    seed = int(np.random.SeedSequence(spec.root_seed, spawn_key=(99,)).generate_state(1)[0])
    chain = sample_unit(result, cutoff=spec.history.cutoff, rule=spec.history.rule, seed=seed, steps=steps,
                        burn=burn, draws=draws)
    names, box = result.names, result.box
    assert box is not None
    values = box[:, 0] + chain.unit * (box[:, 1] - box[:, 0])
    samples = pd.DataFrame({n: [spec.parameters[n].cast(float(v)) for v in values[:, j]]
                            for j, n in enumerate(names)})
    weights = np.full(len(values), 1.0 / len(values))
    frame = pd.DataFrame(values, columns=names)
    summary, estimate = summarise_sample(spec, frame, weights)
    return EmulatorPosterior(samples=samples, summary=summary, estimate=estimate,
                             correlations=weighted_correlations(frame, weights),
                             predictive=_predictive(result, chain.unit, np.random.default_rng(seed)),
                             provenance=_provenance(spec, result, chain.diagnostics, seed))


def _predictive(result: HistoryResult, unit: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """Per fit target, the emulated predictive distribution over the draws: each draw's emulated response plus
    its emulator noise (which holds one run's seed noise), no measurement error; against the observation."""
    obs = result.observations
    assert obs is not None
    mean, sd = _predict(result.waves[-1].emulators, unit)
    y = np.exp(mean + sd * rng.standard_normal(mean.shape))
    q = np.quantile(y, [0.05, 0.25, 0.75, 0.95], axis=0)
    observed = np.exp(obs.z)
    table = pd.DataFrame({"target_id": obs.ids, "observed": observed, "mean": y.mean(axis=0),
                          "q05": q[0], "q25": q[1], "q75": q[2], "q95": q[3]})
    table["inside_50"] = (table["q25"] <= observed) & (observed <= table["q75"])
    table["inside_90"] = (table["q05"] <= observed) & (observed <= table["q95"])
    return table


def _provenance(spec: CalibrationSpec, result: HistoryResult, diagnostics: dict[str, Any],
                seed: int) -> dict[str, Any]:
    from importlib import metadata

    from sim.run import code_version

    hm = result.provenance
    return {
        "method": (f"emulator posterior (emcee {metadata.version('emcee')}, affine-invariant ensemble, "
                   f"{diagnostics['walkers']} walkers, {diagnostics['steps']} steps, the first "
                   f"{diagnostics['burn']} discarded, {diagnostics['draws']} equally spaced draws): the last "
                   "history-matching wave's Gaussian-process emulators in a Gaussian likelihood on the log targets, "
                   f"variance sigma_i^2 + model discrepancy {spec.model_discrepancy:g}^2 + emulator variance "
                   "(which holds one run's seed noise), one-sided targets counting a shortfall only; uniform prior "
                   "over the spec's boxes restricted to the region no wave ruled out"),
        "method_short": f"emulator posterior {spec.name}",
        "exact": True,
        "exact_with_respect_to": "the emulators (check against the model with hukou validate --posterior)",
        "final_temperature": 1.0,
        "spec": spec.model_dump(mode="json"),
        "fit_kind": spec.fit_kind,
        "targets": list(hm.get("targets", [])),
        "targets_left_out": list(hm.get("targets_left_out", [])),
        "waves": hm.get("waves", []),
        "runs": int(hm.get("runs", 0)),
        "seeds": {"root_seed": spec.root_seed, "sampler": "SeedSequence(root_seed, spawn_key=(99,))",
                  "history_matching": hm.get("seeds", {})},
        "sampler": diagnostics,
        "scale": spec.scale,
        "years": [2010, spec.end],
        "estimate": "posterior mean",
        "date": dt.date.today().isoformat(),
        "code_version": code_version(),
    }


def write_emulator_posterior(posterior: EmulatorPosterior, spec: CalibrationSpec, out: Path) -> Path:
    """Write ``posterior.json``, the summary, correlations, emulated predictive fit, ``calibrated.yaml`` (the
    posterior mean, what ``--install`` makes the default) and a report into ``out/posterior/``; returns it."""
    from experiments.calibration.abc import calibrated_yaml
    from experiments.posterior import write_posterior

    folder = Path(out) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    samples = posterior.samples.to_dict("records")
    write_posterior(folder / "posterior.json", samples, [1.0] * len(samples), posterior.provenance)
    posterior.summary.to_csv(folder / "posterior_summary.csv", index=False)
    posterior.correlations.to_csv(folder / "posterior_correlations.csv", index_label="parameter")
    posterior.predictive.to_csv(folder / "predictive.csv", index=False)
    (folder / "calibrated.yaml").write_text(calibrated_yaml(posterior, spec), "utf-8")
    (folder / "report.md").write_text(report(posterior, spec), "utf-8")
    return folder


def report(posterior: EmulatorPosterior, spec: CalibrationSpec) -> str:
    """The prior against the posterior per parameter, the sampler's diagnostics and the emulated fit, as Markdown."""
    p, s = posterior.provenance, posterior.provenance["sampler"]
    lines = [f"# Emulator posterior {spec.name}", "",
             f"On the emulators of a history matching of {p['runs']} runs at {spec.scale:g} persons per agent, "
             f"2010–{spec.end}, {len(p['targets'])} fit targets. emcee: {s['walkers']} walkers × {s['steps']} "
             f"steps, the first {s['burn']} discarded; mean acceptance {s['acceptance_fraction']:.2f}; about "
             f"{s['effective_samples']:,.0f} effective samples (walkers × kept steps / the longest "
             "autocorrelation time).", "",
             *posterior_table(posterior.summary, posterior.correlations)]
    pr = posterior.predictive
    lines += ["", f"Emulated posterior predictive (parameters and seed noise, no measurement error): "
              f"{int(pr['inside_50'].sum())} of {len(pr)} observations inside the 50% interval, "
              f"{int(pr['inside_90'].sum())} inside the 90%.", ""]
    return "\n".join(lines) + "\n"
