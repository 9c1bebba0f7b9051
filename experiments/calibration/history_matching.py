"""History matching in waves: rule out the parameter region where the model cannot reproduce the targets.

``hukou calibrate --method history`` (docs/validation.md, "History matching"). Wave ``k``:

1. *design*: ``runs_per_wave`` parameter sets spread over the region not ruled out yet (NROY). Wave 1: a Latin
   hypercube over the prior box (``scipy.stats.qmc``, optimised for space filling). Later waves: a fixed
   candidate sample of the box (a Latin hypercube of ``candidates`` points) is filtered by every earlier wave's
   emulators and the design is a greedy maximin subset of the survivors (space filling inside the NROY region,
   whatever its shape);
2. *runs*: the design is run by a simulator, a function argument. In the calibration it is one sweep per wave
   (``waves/waveNN/``, the design as a parameter file run once each: ``parameter_draws: {resample: false}``),
   so it parallelises, resumes from its ledger and runs on Dask as every other sweep;
3. *emulators*: per fit target a Gaussian process (scikit-learn, Matern 5/2 with one length scale per parameter
   plus a white-noise term for the seed noise, normalised outputs) of the target's log moment, the summary
   statistic ABC-SMC uses (abc.py), fitted on this wave's runs and the earlier runs inside the NROY region. A
   held-back share of the wave's runs validates it first (share of standardised errors within ±3);
4. *cut*: the implausibility of target ``i`` at ``x`` is
   ``I_i(x) = |z_i − E[f_i(x)]| / sqrt(σ_i² + δ² + Var[f_i(x)])`` (Craig et al. 1997; Vernon, Goldstein and Bower
   2010), ``z_i`` the log observation, ``σ_i`` its relative measurement error, ``δ`` the model discrepancy,
   ``Var[f_i(x)]`` the emulator's predictive variance, which holds the seed noise of the run through the white-noise
   term (the "ensemble variability" of Andrianakis et al. 2015). A one-sided (``at_least``) target counts only a
   shortfall. A point is ruled out when the second-highest ``I_i`` exceeds the cut-off (``rule: second``, Vernon et
   al.'s ``I_2M``; the maximum with a single target) or the maximum does (``rule: max``, ``I_M``). The cut-off 3
   is Pukelsheim's (1994) three-sigma rule: any unimodal distribution puts at least 95% of its mass within three
   standard deviations.

The second-highest is the default because at the coarse scales a calibration can afford, one noisy target (a small
district's share) is poorly emulated, and a single poor emulator should not rule out a region on its own: Vernon et
al.'s ``I_2M`` and ``I_3M`` are the measures one output cannot push over the cut-off alone. Every random choice is
a ``SeedSequence`` of the spec's root seed, so the same spec gives the same designs, runs and files.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.calibration.smm import CalibrationFailed, _check_reached, _pinned
from experiments.calibration.spec import CalibrationSpec, History, calibration_spec_from_dict
from experiments.calibration.targets import load_targets, log_floor, moments_of_runs
from experiments.spec import spec_from_dict
from experiments.sweep import run_sweep
from policies.errors import InputError

__all__ = ["Observations", "WaveResult", "HistoryResult", "Simulate", "latin_hypercube", "maximin_subset",
           "fit_emulator", "implausibility", "cut_measure", "history_match", "SweepSimulator",
           "calibrate_history", "history_spec", "narrow_to_nroy", "MARKER", "RESULT_FILE"]

log = logging.getLogger(__name__)
MARKER = "history_spec.json"
RESULT_FILE = "history_matching.json"
Progress = Callable[[str, dict[str, int], float], None]
# simulate(label, values) -> one row of log moments per row of parameter values (columns: the targets, in order)
Simulate = Callable[[str, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Observations:
    """The targets as history matching sees them: log observations, their variance, one-sidedness."""

    ids: list[str]
    z: np.ndarray  # log observed values
    var: np.ndarray  # σ_i² + δ² on the log scale
    at_least: np.ndarray  # one-sided targets: only a shortfall counts


@dataclass
class WaveResult:
    """One wave: its design and runs, its emulators, their validation and the NROY region after it."""

    number: int
    design: np.ndarray  # parameter values run (n × d)
    outputs: np.ndarray  # their log moments (n × m)
    emulators: list[Any]
    training_runs: int  # parameter sets the cutting emulators were fitted on (this wave's and earlier ones)
    held_back: int
    validation_within_3: float | None  # share of the held-back standardised errors within ±3
    nroy_fraction: float
    nroy_ranges: dict[str, tuple[float, float] | None]
    seed: int


@dataclass
class HistoryResult:
    """Every wave, the final plausible candidate sample and what reproduces it."""

    names: list[str]
    waves: list[WaveResult]
    nroy: pd.DataFrame  # the last wave's plausible candidates (parameter values, their cut implausibility)
    provenance: dict[str, Any] = field(default_factory=dict)
    observations: Observations | None = None  # the targets the waves matched (for the emulator posterior)
    box: np.ndarray | None = None  # the prior box (d × 2) the candidates and unit coordinates refer to


def _seed(root: int, *key: int) -> int:
    return int(np.random.SeedSequence(root, spawn_key=key).generate_state(1)[0])


def latin_hypercube(n: int, d: int, seed: int, optimise: bool = False) -> np.ndarray:
    """``n`` points of a Latin hypercube in the unit cube (scipy.stats.qmc). ``optimise``: improved for space
    filling by random coordinate swaps that lower the centred discrepancy (``random-cd``; a second or so for a
    design of tens of points, too slow for the candidate sample, which needs no more than a Latin hypercube)."""
    from scipy.stats import qmc

    sampler = qmc.LatinHypercube(d=d, optimization="random-cd" if optimise else None,
                                 seed=np.random.default_rng(seed))
    return np.asarray(sampler.random(n))


def maximin_subset(points: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Indices of ``n`` of ``points`` chosen greedily to be far apart (each the farthest from those chosen), from a
    seeded first point: a space-filling design inside a region known only by a sample of its points."""
    if len(points) <= n:
        return np.arange(len(points))
    first = int(np.random.default_rng(seed).integers(len(points)))
    chosen = [first]
    dist = np.linalg.norm(points - points[first], axis=1)
    for _ in range(n - 1):
        nxt = int(np.argmax(dist))
        chosen.append(nxt)
        dist = np.minimum(dist, np.linalg.norm(points - points[nxt], axis=1))
    return np.array(chosen)


def fit_emulator(x: np.ndarray, y: np.ndarray, seed: int, restarts: int = 1) -> Any:
    """A Gaussian process of one output over unit coordinates: Matern 5/2 with a length scale per parameter (rough
    enough for an agent-based model's response, smooth enough to interpolate 20–40 runs) plus white noise for the
    seed noise; outputs normalised, hyperparameters by maximum likelihood from the initial kernel and ``restarts``
    seeded random starts (one is enough for a handful of parameters; each costs a full optimisation).

    No length scale shorter than the design's spacing, ``n^(-1/d)`` for ``n`` space-filling points in ``d``
    dimensions (at most 0.5): the runs cannot resolve a feature narrower than the gaps between them, and a shorter
    length scale lets the likelihood explain one run's seed noise as a spike instead of as noise. Measured: with a
    bound of 0.05, a small district's share that one run of 20 drew 11 sd off made the emulator interpolate it and
    rule out a patch of the box around that run (docs/validation.md, "History matching").
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    n, d = x.shape
    shortest = min(0.5, float(n) ** (-1.0 / d))
    kernel = (ConstantKernel(1.0, (1e-3, 1e3))
              * Matern(length_scale=np.full(d, 0.5), length_scale_bounds=(shortest, 20.0), nu=2.5)
              + WhiteKernel(1e-2, (1e-8, 1.0)))
    gp = GaussianProcessRegressor(kernel=kernel, normalize_y=True, n_restarts_optimizer=restarts,
                                  random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gp.fit(x, y)
    return gp


def _predict(emulators: list[Any], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    means, sds = zip(*(gp.predict(x, return_std=True) for gp in emulators), strict=True)
    return np.column_stack(means), np.column_stack(sds)


def implausibility(emulators: list[Any], x: np.ndarray, obs: Observations) -> np.ndarray:
    """``I_i(x)`` for every point (rows) and target (columns); a one-sided target counts only a shortfall."""
    mean, sd = _predict(emulators, x)
    gap = obs.z[None, :] - mean
    gap = np.where(obs.at_least[None, :], np.maximum(gap, 0.0), np.abs(gap))
    return gap / np.sqrt(obs.var[None, :] + sd ** 2)


def cut_measure(imp: np.ndarray, rule: str) -> np.ndarray:
    """The implausibility that is cut: the maximum over targets, or the second-highest (the maximum with one)."""
    if rule == "max" or imp.shape[1] < 2:
        return imp.max(axis=1)
    return np.sort(imp, axis=1)[:, -2]


def _validate(x: np.ndarray, y: np.ndarray, held: np.ndarray, seed: int) -> float | None:
    """Fit on the runs not held back, predict the held-back ones: the share of standardised errors within ±3.
    Fitted from the initial kernel only (no random restarts): a check of the emulator's form, at half the cost."""
    if not held.any() or (~held).sum() < 3:
        return None
    z = []
    for i in range(y.shape[1]):
        gp = fit_emulator(x[~held], y[~held, i], seed, restarts=0)
        mean, sd = gp.predict(x[held], return_std=True)
        z.append((y[held, i] - mean) / np.maximum(sd, 1e-12))
    return float(np.mean(np.abs(np.concatenate(z)) <= 3.0))


def history_match(simulate: Simulate, names: list[str], box: np.ndarray, obs: Observations, settings: History,
                  root_seed: int, integer: list[bool] | None = None) -> HistoryResult:
    """Run ``settings.waves`` waves of history matching of ``simulate`` over the parameter ``box`` (d × 2).

    ``simulate`` gets a wave label and the design's parameter values and returns their log moments; the real
    model's is a ``SweepSimulator``, a test's an analytic function. Stops early when no candidate is left.
    """
    d = len(names)
    integer = integer or [False] * d
    width = box[:, 1] - box[:, 0]

    def values_of(unit: np.ndarray) -> np.ndarray:
        v = box[:, 0] + unit * width
        return np.where(integer, np.round(v), v)

    candidates = values_of(latin_hypercube(settings.candidates, d, _seed(root_seed, 0)))
    cand_unit = (candidates - box[:, 0]) / width
    alive = np.ones(len(candidates), dtype=bool)
    train_x = np.empty((0, d))
    train_y = np.empty((0, len(obs.ids)))
    waves: list[WaveResult] = []
    cut = np.zeros(len(candidates))
    for k in range(1, settings.waves + 1):
        seed = _seed(root_seed, k)
        if k == 1:
            design = values_of(latin_hypercube(settings.runs_per_wave, d, seed, optimise=True))
        else:
            pool = np.flatnonzero(alive)
            if not len(pool):
                break
            design = candidates[pool[maximin_subset(cand_unit[pool], settings.runs_per_wave, seed)]]
        outputs = np.asarray(simulate(f"wave{k:02d}", design), dtype=float)
        unit = (design - box[:, 0]) / width
        if waves:  # the earlier runs still inside the NROY region help this wave's emulators
            keep = np.ones(len(train_x), dtype=bool)
            for w in waves:
                keep &= cut_measure(implausibility(w.emulators, train_x, obs), settings.rule) <= settings.cutoff
            train_x, train_y = train_x[keep], train_y[keep]
        held = np.zeros(len(design), dtype=bool)
        n_held = int(np.floor(settings.holdout * len(design)))
        if n_held:
            held[np.random.default_rng(seed).permutation(len(design))[:n_held]] = True
        x_all = np.vstack([train_x, unit])
        y_all = np.vstack([train_y, outputs])
        held_all = np.concatenate([np.zeros(len(train_x), dtype=bool), held])
        validation = _validate(x_all, y_all, held_all, seed)
        emulators = [fit_emulator(x_all, y_all[:, i], seed) for i in range(len(obs.ids))]
        train_x, train_y = x_all, y_all
        cut = np.full(len(candidates), np.inf)
        cut[alive] = cut_measure(implausibility(emulators, cand_unit[alive], obs), settings.rule)
        alive &= cut <= settings.cutoff
        ranges = {n: (float(candidates[alive, j].min()), float(candidates[alive, j].max())) if alive.any() else None
                  for j, n in enumerate(names)}
        waves.append(WaveResult(number=k, design=design, outputs=outputs, emulators=emulators,
                                training_runs=int(len(x_all)), held_back=int(held.sum()),
                                validation_within_3=validation, nroy_fraction=float(alive.mean()),
                                nroy_ranges=ranges, seed=seed))
        log.info("wave %d: %d runs, NROY %.3f of the box", k, len(design), alive.mean())
    nroy = pd.DataFrame(candidates[alive], columns=names)
    for j, n in enumerate(names):
        if integer[j]:
            nroy[n] = nroy[n].round().astype(int)
    nroy["implausibility"] = cut[alive]
    return HistoryResult(names=list(names), waves=waves, nroy=nroy, observations=obs, box=box)


class SweepSimulator:
    """The model as history matching's simulator: each wave's design is one sweep (``waves/<label>/``), its design a
    parameter file run once per replication, its result the mean log moment of each fit target per design point."""

    def __init__(self, spec: CalibrationSpec, out: Path, targets: pd.DataFrame, fit: pd.DataFrame,
                 workers: int | None = None, progress: Progress | None = None) -> None:
        self.spec, self.out, self.targets = spec, out, targets
        self.workers, self.progress = workers, progress
        self.names = list(spec.parameters)
        self.ids = [str(i) for i in fit["target_id"]]
        self.floor = log_floor(fit["measure"])
        self.pinned = _pinned(spec)
        self.runs = 0
        self.seeds: dict[str, int] = {}
        self.client: Any = None  # a Dask client shared by every wave (with a scheduler)

    def wave_seed(self, label: str) -> int:
        """The root seed of a wave's sweep: from the spec's root seed and the label, never from order."""
        return int(hashlib.sha256(f"{self.spec.root_seed}:history:{label}".encode()).hexdigest()[:12], 16)

    def __call__(self, label: str, design: np.ndarray) -> np.ndarray:
        from experiments.posterior import load_posterior, write_posterior
        from sim.run import code_version

        values = [{n: self.spec.parameters[n].cast(float(x)) for n, x in zip(self.names, row, strict=True)}
                  for row in design]
        folder = self.out / "waves"
        file = folder / f"{label}.json"
        seed = self.wave_seed(label)
        self.seeds[label] = seed
        if file.is_file():
            if [dict(s) for s in load_posterior(file).samples] != values:
                raise InputError("this wave's design differs from the one the history matching proposes now; "
                                 "start it in another --out", file=file)
        else:
            write_posterior(file, values, [1.0] * len(values), {
                "method": "history-matching design (one wave's parameter sets, equal weights; not a posterior)",
                "targets": self.ids, "waves": [label], "runs": 0, "seeds": {"root_seed": seed},
                "code_version": code_version(), "date": dt.date.today().isoformat()})
        r = self.spec.history.replications
        doc = self.spec.sweep_spec(label, None, None, self.pinned, replications=r, root_seed=seed)
        doc["parameter_draws"] = {"file": str(file.resolve()), "draws": len(values), "resample": False}
        step = self.progress
        summary = run_sweep(spec_from_dict(doc, None), folder / label, workers=self.workers, client=self.client,
                            summarise=False,
                            progress=None if step is None else (lambda c, s: step(label, c, s)))
        if not summary.ok:
            first = summary.failed[0] if summary.failed else ("?", "")
            raise CalibrationFailed(f"wave {label}: {len(summary.failed)} runs failed (first {first[0]}: "
                                    f"{(first[1].strip().splitlines() or [''])[-1]}); see hukou status "
                                    f"{folder / label}")
        self.runs += len(values) * r
        moments = moments_of_runs(folder / label, self.targets)
        logs = np.log(np.maximum(moments[self.ids].to_numpy(float), self.floor))
        draw = moments["replicate"].to_numpy() // r
        return np.vstack([logs[draw == i].mean(axis=0) for i in range(len(values))])


def history_spec(spec: CalibrationSpec, *, scale: float | None = None, end: int | None = None,
                 parameters: list[str] | None = None, waves: int | None = None,
                 runs_per_wave: int | None = None) -> CalibrationSpec:
    """``spec`` with the command line's overrides (validated like a spec file): another scale or end, a subset of
    its parameters (the others stay at their priors' values), other wave counts."""
    doc = spec.model_dump(mode="json", exclude_none=True)
    if parameters:
        unknown = [p for p in parameters if p not in spec.parameters]
        if unknown:
            raise InputError(f"{unknown[0]} is not a parameter of calibration spec {spec.name}", field="--parameter")
        doc["parameters"] = {k: v for k, v in doc["parameters"].items() if k in parameters}
    if scale is not None:
        doc["scale"] = scale
    if end is not None:
        doc["end"] = end
    hist = dict(doc.get("history", {}))
    if waves is not None:
        hist["waves"] = waves
    if runs_per_wave is not None:
        hist["runs_per_wave"] = runs_per_wave
    doc["history"] = hist
    return calibration_spec_from_dict(doc, "command line")


def _start(spec: CalibrationSpec, out: Path) -> None:
    """Create the folder, or accept it when it holds a history matching of the same spec."""
    out.mkdir(parents=True, exist_ok=True)
    for other, method in (("calibration_spec.json", "an SMM calibration"), ("abc_spec.json", "an ABC calibration")):
        if (out / other).is_file():
            raise InputError(f"this folder holds {method}; choose another --out for --method history", file=out)
    marker = out / MARKER
    canonical = spec.model_dump(mode="json")
    if marker.is_file() and json.loads(marker.read_text("utf-8")) != canonical:
        raise InputError("this folder holds a history matching of a different spec; choose another --out", file=out)
    marker.write_text(json.dumps(canonical, indent=2, ensure_ascii=False), "utf-8")


def calibrate_history(spec: CalibrationSpec, out: str | Path, *, targets: pd.DataFrame | None = None,
                      workers: int | None = None, scheduler: str | None = None, progress: Progress | None = None,
                      drop_late: bool = False) -> HistoryResult:
    """History-match ``spec.parameters`` in folder ``out`` (created, or resumed from its waves' ledgers).

    ``drop_late``: leave out (and list) the fit targets dated after ``spec.end`` instead of refusing them; the
    command line does so when ``--end`` shortens the runs on purpose.
    """
    out = Path(out)
    _start(spec, out)
    targets = load_targets(spec.targets_file) if targets is None else targets.reset_index(drop=True)
    fit = targets[targets["target_kind"] == spec.fit_kind].reset_index(drop=True)
    left_out: list[str] = []
    if drop_late:
        late = fit["year"].astype(float) >= spec.end + 1
        left_out = [str(t) for t in fit.loc[late, "target_id"]]
        fit = fit[~late].reset_index(drop=True)
    if fit.empty:
        raise InputError(f"no targets of kind {spec.fit_kind!r} to fit up to {spec.end}",
                         file=spec.targets_file or "experiments/calibration/data/targets.csv")
    _check_reached(fit, targets, spec)
    obs = Observations(ids=[str(i) for i in fit["target_id"]], z=np.log(fit["observed"].to_numpy(float)),
                       var=fit["sigma_rel"].to_numpy(float) ** 2 + spec.model_discrepancy ** 2,
                       at_least=(fit["comparison"] == "at_least").to_numpy())
    simulator = SweepSimulator(spec, out, targets, fit, workers, progress)
    names = list(spec.parameters)
    box = np.array([[r.low, r.high] for r in spec.parameters.values()], dtype=float)
    with contextlib.ExitStack() as stack:
        if scheduler:  # one Dask client for every wave: its workers start once, not once per wave
            from experiments.execute_dask import dask_client

            simulator.client = stack.enter_context(dask_client(scheduler, workers=workers))
        result = history_match(simulator, names, box, obs, spec.history, spec.root_seed,
                               [r.integer for r in spec.parameters.values()])
    result.provenance = _provenance(spec, result, obs, left_out, simulator)
    _write_outputs(result, spec, out)
    return result


def _provenance(spec: CalibrationSpec, result: HistoryResult, obs: Observations, left_out: list[str],
                simulator: SweepSimulator) -> dict[str, Any]:
    from importlib import metadata

    from sim.run import code_version

    h = spec.history
    last = result.waves[-1]
    return {
        "method": (f"history matching (scikit-learn {metadata.version('scikit-learn')} Gaussian-process emulators, "
                   "Matern 5/2 + white noise, one per fit target, on the log moments); implausibility "
                   f"|z - E f(x)| / sqrt(sigma_i^2 + model discrepancy {spec.model_discrepancy:g}^2 + Var f(x)); "
                   f"ruled out where the {'second-highest' if h.rule == 'second' else 'maximum'} implausibility "
                   f"exceeds {h.cutoff:g}"),
        "method_short": f"history matching {spec.name}",
        "spec": spec.model_dump(mode="json"),
        "history": h.model_dump(mode="json"),  # the settings, also when the spec left them at their defaults
        "fit_kind": spec.fit_kind,
        "targets": obs.ids,
        "targets_left_out": left_out,
        "cutoff": h.cutoff,
        "rule": h.rule,
        "waves": [{"wave": w.number, "runs": int(len(w.design)) * h.replications,
                   "parameter_sets": int(len(w.design)), "training_sets": w.training_runs,
                   "held_back": w.held_back, "validation_within_3": w.validation_within_3,
                   "nroy_fraction": w.nroy_fraction,
                   "nroy_ranges": {n: None if r is None else list(r) for n, r in w.nroy_ranges.items()},
                   "design_seed": w.seed, "sweep_seed": simulator.seeds.get(f"wave{w.number:02d}")}
                  for w in result.waves],
        "nroy_fraction": last.nroy_fraction,
        "nroy_ranges": {n: None if r is None else list(r) for n, r in last.nroy_ranges.items()},
        # the central 90% of each parameter over the NROY region (a ruled-out corner leaves the ranges whole
        # but moves these)
        "nroy_central_90": {n: [float(result.nroy[n].quantile(0.05)), float(result.nroy[n].quantile(0.95))]
                            if len(result.nroy) else None for n in result.names},
        "candidates": h.candidates,
        "runs": int(simulator.runs),
        "seeds": {"root_seed": spec.root_seed, "candidates": "SeedSequence(root_seed, spawn_key=(0,))",
                  "design": "SeedSequence(root_seed, spawn_key=(wave,))",
                  "runs": "common_seed(sha256(root_seed:history:waveNN), set, replicate)",
                  "replications": h.replications},
        "scale": spec.scale,
        "years": [2010, spec.end],
        "code_version": code_version(),
    }


def _write_outputs(result: HistoryResult, spec: CalibrationSpec, out: Path) -> None:
    (out / RESULT_FILE).write_text(json.dumps(result.provenance, indent=2, ensure_ascii=False) + "\n", "utf-8")
    result.nroy.to_csv(out / "nroy.csv", index=False)
    (out / "report.md").write_text(report(result, spec), "utf-8")


def number(x: float) -> str:
    """A parameter value for reading: whole numbers with thousands separators from 1,000 up, else 4 digits."""
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"


def report(result: HistoryResult, spec: CalibrationSpec) -> str:
    """Per wave: runs, the NROY share of the box, the emulators' validation; then the NROY ranges."""
    p = result.provenance
    lines = [f"# History matching {spec.name}", "", spec.description.strip(), "",
             f"{p['runs']} runs at {spec.scale:g} persons per agent, 2010–{spec.end}, {len(p['targets'])} fit "
             f"targets; ruled out where the {'second-highest' if p['rule'] == 'second' else 'maximum'} "
             f"implausibility exceeds {p['cutoff']:g}. NROY share of the box estimated on {p['candidates']} "
             "candidate points.", ""]
    if p["targets_left_out"]:
        lines += [f"Fit targets after {spec.end}, left out: {len(p['targets_left_out'])}.", ""]
    lines += ["| wave | runs | emulators' held-back errors within ±3 | NROY share of the box |", "|---|---|---|---|"]
    for w in p["waves"]:
        val = "–" if w["validation_within_3"] is None else f"{w['validation_within_3']:.0%} of {w['held_back']} runs"
        lines.append(f"| {w['wave']} | {w['runs']} | {val} | {w['nroy_fraction']:.3f} |")
    lines += ["", "Per parameter, over the NROY region after the last wave: its range and its central 90% (the box's "
              "own central 90% is its middle nine tenths).", "",
              "| parameter | prior box | NROY range | NROY central 90% |", "|---|---|---|---|"]
    for n, r in p["nroy_ranges"].items():
        rng, q = spec.parameters[n], p["nroy_central_90"][n]
        lines.append(f"| `{n}` | {number(rng.low)} – {number(rng.high)} | "
                     + ("empty | – |" if r is None or q is None
                        else f"{number(r[0])} – {number(r[1])} | {number(q[0])} – {number(q[1])} |"))
    return "\n".join(lines) + "\n"


def narrow_to_nroy(spec: CalibrationSpec, folder: str | Path) -> CalibrationSpec:
    """``spec`` with each parameter's box narrowed to the NROY range of a history matching in ``folder`` (its
    ``history_matching.json``): ABC-SMC's uniform prior over the NROY region's bounding box, the common
    simplification of "the posterior restricted to NROY". Parameters not history-matched keep their box."""
    file = Path(folder) / RESULT_FILE
    if not file.is_file():
        raise InputError(f"no {RESULT_FILE} here (run hukou calibrate --method history first)", file=folder)
    try:
        ranges = json.loads(file.read_text("utf-8"))["nroy_ranges"]
    except (ValueError, KeyError, TypeError):
        raise InputError("not a history-matching result (no nroy_ranges)", file=file) from None
    doc = spec.model_dump(mode="json", exclude_none=True)
    narrowed = []
    for name, rng in doc["parameters"].items():
        if name not in ranges:
            continue
        if ranges[name] is None:
            raise InputError(f"the NROY region is empty: no prior for {name}", file=file, field="nroy_ranges")
        lo, hi = max(rng["low"], float(ranges[name][0])), min(rng["high"], float(ranges[name][1]))
        if not hi > lo:
            raise InputError(f"the NROY range of {name} ({lo:g}–{hi:g}) leaves no box", file=file,
                             field=f"nroy_ranges.{name}")
        rng.update(low=lo, high=hi)
        narrowed.append(name)
    if not narrowed:
        raise InputError(f"no parameter of calibration spec {spec.name} was history-matched here", file=file)
    doc["description"] = (doc.get("description", "").strip() + f" Prior boxes of {', '.join(narrowed)} narrowed "
                          f"to the NROY ranges of the history matching in {Path(folder)}.").strip()
    return calibration_spec_from_dict(doc, str(file))
