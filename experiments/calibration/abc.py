"""ABC-SMC calibration with pyabc: a weighted sample of the posterior of the behavioural parameters.

``hukou calibrate --method abc`` (docs/validation.md, "Bayesian calibration"). The model is treated as a simulator
of the fit targets' log values; the observations are those values with Gaussian error of variance
``σ_i² + δ²`` on the log scale (``σ_i`` the target's relative measurement error in targets.csv, ``δ`` the spec's
``model_discrepancy``), the same error model as the simulated-method-of-moments objective (smm.py). A one-sided
target (``at_least``) is censored: a simulated value above its bound counts as the bound.

pyabc's stochastic acceptor with that Gaussian kernel and a falling temperature (Wilkinson 2013; Schälte and
Hasenauer 2020) accepts, at temperature 1, a sample of the exact posterior under this error model, with the seed
noise of the simulation folded into the likelihood. Its normalisation is pyabc's ``ScaledPDFNorm``: a lower bar
that raises the acceptance rate, with importance weights that keep the sample exact. The last generation is
forced to temperature 1 (pyabc's ``Temperature``). Priors are uniform over the spec's boxes.

Every model evaluation is a run of a sweep (abc_sampler.py): each batch of particles is one sweep folder under
``batches/`` with its ledger, so it parallelises with ``--workers`` or Dask and a calibration run again on the same
folder replays pyabc from the start while every finished run is read back, never repeated. pyabc's own database is
``abc.db`` in the calibration folder, rebuilt by each replay.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.calibration.abc_sampler import SweepBatchSampler, SweepModel
from experiments.calibration.smm import CalibrationFailed, _check_reached, _pinned
from experiments.calibration.spec import CalibrationSpec
from experiments.calibration.targets import load_targets, log_floor, moments_of_runs
from experiments.spec import behaviour_path_value, spec_from_dict
from experiments.sweep import run_sweep
from policies.errors import InputError
from policies.yamlio import dump_yaml

__all__ = ["AbcResult", "calibrate_abc", "finish_abc", "weighted_quantile", "MARKER"]

log = logging.getLogger(__name__)
MARKER = "abc_spec.json"
Progress = Callable[[str, dict[str, int], float], None]


@dataclass
class AbcResult:
    """The posterior sample (final population), its summary, and what reproduces it."""

    parameters: pd.DataFrame  # one row per particle of the final population, a column per parameter
    weights: np.ndarray
    estimate: dict[str, float | int]  # posterior mean, as the parameter's type
    summary: pd.DataFrame  # per parameter: prior box, mean, sd, 5/25/50/75/95% quantiles
    predictive: pd.DataFrame  # per fit target: observed, posterior predictive mean and 50%/90% intervals
    folder: Path
    provenance: dict[str, Any] = field(default_factory=dict)
    correlations: pd.DataFrame = field(default_factory=pd.DataFrame)  # the posterior's weighted correlations


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The ``q`` quantile of a weighted sample (inverse of the weighted empirical distribution, midpoint rule)."""
    order = np.argsort(values, kind="stable")
    v, w = np.asarray(values, float)[order], np.asarray(weights, float)[order]
    cum = (np.cumsum(w) - 0.5 * w) / w.sum()
    return float(np.interp(q, cum, v))


class _Problem:
    """The fit targets as pyabc sees them: observed log values, kernel variances, censoring, batch evaluation."""

    def __init__(self, spec: CalibrationSpec, out: Path, targets: pd.DataFrame, fit: pd.DataFrame,
                 workers: int | None, scheduler: str | None, progress: Progress | None) -> None:
        self.spec, self.out, self.targets = spec, out, targets
        self.workers, self.scheduler, self.progress = workers, scheduler, progress
        self.names = list(spec.parameters)
        self.ids = [str(i) for i in fit["target_id"]]
        self.log_obs = np.log(fit["observed"].to_numpy(float))
        self.var = fit["sigma_rel"].to_numpy(float) ** 2 + spec.model_discrepancy ** 2
        self.at_least = (fit["comparison"] == "at_least").to_numpy()
        self.floor = log_floor(fit["measure"])
        self.pinned = _pinned(spec)
        self.runs = 0
        self.client: Any = None  # a Dask client shared by every batch (with a scheduler)

    @property
    def observed(self) -> dict[str, float]:
        return dict(zip(self.ids, self.log_obs.tolist(), strict=True))

    def values(self, proposal: dict[str, float]) -> dict[str, float | int]:
        """A proposal as the model runs it (integer parameters rounded)."""
        return {n: self.spec.parameters[n].cast(proposal[n]) for n in self.names}

    def batch_seed(self, label: str) -> int:
        """The root seed of a batch sweep: from the spec's root seed and the batch label, never from order."""
        import hashlib

        digest = hashlib.sha256(f"{self.spec.root_seed}:{label}".encode()).hexdigest()
        return int(digest[:12], 16)

    def evaluate(self, label: str, proposals: list[dict[str, float]]) -> list[dict[str, float]]:
        """Run one batch of particles as a sweep (or read it back) and return their summary statistics."""
        from experiments.posterior import load_posterior, write_posterior
        from sim.run import code_version

        values = [self.values(p) for p in proposals]
        batches = self.out / "batches"
        file = batches / f"{label}.json"
        if file.is_file():
            if [dict(s) for s in load_posterior(file).samples] != values:
                raise InputError("this batch's particles differ from the ones the calibration proposes now; "
                                 "start the calibration in another --out", file=file)
        else:
            write_posterior(file, values, [1.0] * len(values), {
                "method": "ABC-SMC proposals (one batch of particles, equal weights; not a posterior)",
                "targets": self.ids, "waves": [label], "runs": 0, "seeds": {"root_seed": self.batch_seed(label)},
                "code_version": code_version(), "date": dt.date.today().isoformat()})
        r = self.spec.abc.replications
        doc = self.spec.sweep_spec(label, None, None, self.pinned, replications=r,
                                   root_seed=self.batch_seed(label))
        doc["parameter_draws"] = {"file": str(file.resolve()), "draws": len(values), "resample": False}
        exp = spec_from_dict(doc, None)
        folder = batches / label
        step = self.progress
        summary = run_sweep(exp, folder, workers=self.workers, client=self.client, summarise=False,
                            progress=None if step is None else (lambda c, s: step(label, c, s)))
        if not summary.ok:
            first = summary.failed[0] if summary.failed else ("?", "")
            raise CalibrationFailed(f"batch {label}: {len(summary.failed)} runs failed (first {first[0]}: "
                                    f"{(first[1].strip().splitlines() or [''])[-1]}); see hukou status {folder}")
        self.runs += len(values) * r
        moments = moments_of_runs(folder, self.targets)  # initial targets: offsets.sort_values("replicate")
        logs = np.log(np.maximum(moments[self.ids].to_numpy(float), self.floor))
        draw = moments["replicate"].to_numpy() // r
        out = []
        for d in range(len(values)):
            mean = logs[draw == d].mean(axis=0)
            mean = np.where(self.at_least, np.minimum(mean, self.log_obs), mean)  # a bound reached is the bound
            out.append(dict(zip(self.ids, mean.tolist(), strict=True)))
        return out


def _start(spec: CalibrationSpec, out: Path) -> None:
    """Create the folder, or accept it when it holds an ABC calibration of the same spec."""
    out.mkdir(parents=True, exist_ok=True)
    marker = out / MARKER
    canonical = spec.model_dump(mode="json")
    if (out / "calibration_spec.json").is_file():
        raise InputError("this folder holds an SMM calibration; choose another --out for --method abc", file=out)
    if marker.is_file() and json.loads(marker.read_text("utf-8")) != canonical:
        raise InputError("this folder holds a calibration of a different spec; choose another --out", file=out)
    marker.write_text(json.dumps(canonical, indent=2, ensure_ascii=False), "utf-8")


def calibrate_abc(spec: CalibrationSpec, out: str | Path, *, targets: pd.DataFrame | None = None,
                  workers: int | None = None, scheduler: str | None = None,
                  progress: Progress | None = None) -> AbcResult:
    """Sample the posterior of ``spec.parameters`` by ABC-SMC in folder ``out`` (created, or replayed).

    Args:
        spec: the calibration spec (its ``abc`` block sets population, generations, seeds per particle).
        out: the calibration folder: ``batches/`` (one sweep per batch of particles), ``abc.db``, the results.
        targets: a targets table instead of ``spec.targets_file`` (the coverage check uses synthetic truths).
        workers: local worker processes per batch (or Dask workers with ``scheduler``).
        scheduler: a Dask scheduler (``local``, ``slurm`` or an address), as ``hukou sweep --scheduler``.
        progress: called with the batch label, the ledger counts and the elapsed seconds.
    """
    import pyabc

    out = Path(out)
    _start(spec, out)
    targets = load_targets(spec.targets_file) if targets is None else targets.reset_index(drop=True)
    fit = targets[targets["target_kind"] == spec.fit_kind].reset_index(drop=True)
    if fit.empty:
        raise InputError(f"no targets of kind {spec.fit_kind!r} to fit", file=spec.targets_file or "targets")
    _check_reached(fit, targets, spec)
    problem = _Problem(spec, out, targets, fit, workers, scheduler, progress)

    prior = pyabc.Distribution(**{n: pyabc.RV("uniform", r.low, r.high - r.low)
                                  for n, r in spec.parameters.items()})
    model = SweepModel(problem.names)
    sampler = SweepBatchSampler(model, problem.evaluate, spec.root_seed, spec.abc.max_batch)
    kernel = pyabc.IndependentNormalKernel(var=problem.var, keys=problem.ids)
    smc = pyabc.ABCSMC(model, prior, kernel, population_size=spec.abc.population, sampler=sampler,
                       eps=pyabc.Temperature(),
                       acceptor=pyabc.StochasticAcceptor(pdf_norm_method=pyabc.ScaledPDFNorm()))
    db = out / "abc.db"
    db.unlink(missing_ok=True)  # rebuilt by the replay: the runs, not pyabc's records, are what is kept
    state = np.random.get_state()  # noqa: NPY002 - pyabc draws from it
    np.random.seed(spec.root_seed % 2**32)  # noqa: NPY002 - pyabc draws from it
    try:
        with contextlib.ExitStack() as stack:
            if scheduler:  # one Dask client for every batch: its workers start once, not once per batch
                from experiments.execute_dask import dask_client

                problem.client = stack.enter_context(dask_client(scheduler, workers=workers))
            smc.new(f"sqlite:///{db}", problem.observed)
            history = smc.run(max_nr_populations=spec.abc.generations,
                              max_total_nr_simulations=spec.abc.max_runs // spec.abc.replications)
    finally:
        np.random.set_state(state)  # noqa: NPY002 - pyabc draws from it
    result = _result(spec, problem, history, sampler, fit)
    _write_outputs(result, spec)
    return result


def finish_abc(spec: CalibrationSpec, out: str | Path, *, targets: pd.DataFrame | None = None) -> AbcResult:
    """Write the posterior of a calibration stopped before its last generation, from its last complete one,
    running nothing: pyabc's database (``abc.db``) as the interrupted run left it, the runs and batches counted
    from the batches' ledgers. The sample is tempered (temperature above 1, wider than the posterior) and the
    provenance says so (``exact: false``, ``final_temperature``), as for a calibration stopped by ``max_runs``.

    Why: the last generation, at temperature 1, accepts few particles and can cost more runs than all the others
    together; a calibration that ran out of time keeps what it learnt instead of nothing.
    """
    import pyabc

    out = Path(out)
    db = out / "abc.db"
    if not db.is_file():
        raise InputError("no abc.db here: nothing to finish (run hukou calibrate --method abc first)", file=out)
    _start(spec, out)  # the folder must hold a calibration of this very spec
    targets = load_targets(spec.targets_file) if targets is None else targets.reset_index(drop=True)
    fit = targets[targets["target_kind"] == spec.fit_kind].reset_index(drop=True)
    problem = _Problem(spec, out, targets, fit, None, None, None)
    history = pyabc.History(f"sqlite:///{db}")
    if history.max_t < 0:
        raise InputError("abc.db holds no complete generation yet: nothing to finish", file=db)
    sampler = SweepBatchSampler(SweepModel(problem.names), problem.evaluate, spec.root_seed, spec.abc.max_batch)
    from experiments.ledger import Ledger

    ledgers = sorted((out / "batches").glob("*/ledger.sqlite"))
    sampler.batches = [{"label": f.parent.name} for f in ledgers]
    problem.runs = sum(Ledger(f, readonly=True).counts()["done"] for f in ledgers)  # runs made, the last batch's too
    result = _result(spec, problem, history, sampler, fit)
    _write_outputs(result, spec)
    return result


def _result(spec: CalibrationSpec, problem: _Problem, history: Any, sampler: SweepBatchSampler,
            fit: pd.DataFrame) -> AbcResult:
    frame, w = history.get_distribution(m=0, t=history.max_t)
    frame = frame.reset_index(drop=True)[problem.names]
    weights = np.asarray(w, float) / np.sum(w)
    summary, estimate = summarise_sample(spec, frame, weights)
    ws, stats = history.get_weighted_sum_stats_for_model(m=0, t=history.max_t)
    ws = np.asarray(ws, float) / np.sum(ws)
    pred = []
    for i, t in enumerate(fit.itertuples()):
        x = np.exp(np.array([s[str(t.target_id)] for s in stats], float))
        pred.append({"target_id": t.target_id, "observed": float(t.observed), "comparison": t.comparison,
                     "mean": float(np.sum(ws * x)),
                     **{f"q{int(q * 100):02d}": weighted_quantile(x, ws, q) for q in (0.05, 0.25, 0.75, 0.95)}})
        del i
    predictive = pd.DataFrame(pred)
    predictive["inside_50"] = (predictive["q25"] <= predictive["observed"]) & (predictive["observed"]
                                                                               <= predictive["q75"])
    predictive["inside_90"] = (predictive["q05"] <= predictive["observed"]) & (predictive["observed"]
                                                                               <= predictive["q95"])
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0]
    waves = [{"generation": int(p.t), "temperature": float(p.epsilon), "particles_evaluated": int(p.samples)}
             for p in pops.itertuples()]
    provenance = _provenance(spec, problem, waves, sampler)
    samples = pd.DataFrame([problem.values(row) for row in frame.to_dict("records")])
    return AbcResult(parameters=samples, weights=weights, estimate=estimate, summary=summary,
                     predictive=predictive, folder=problem.out, provenance=provenance,
                     correlations=weighted_correlations(frame, weights))


def summarise_sample(spec: CalibrationSpec, frame: pd.DataFrame,
                     weights: np.ndarray) -> tuple[pd.DataFrame, dict[str, float | int]]:
    """Per parameter of a weighted posterior sample (``frame``: a column per parameter of ``spec``): its prior box
    and sd (uniform over the box), weighted mean, sd, identification and 5/25/50/75/95% quantiles; and the mean
    as the parameter's type (the estimate ``calibrated.yaml`` installs)."""
    rows, estimate = [], {}
    for n in frame.columns:
        r, x = spec.parameters[n], frame[n].to_numpy(float)
        mean = float(np.sum(weights * x))
        estimate[n] = int(round(mean)) if r.integer else float(f"{mean:.4g}")
        sd = float(np.sqrt(np.sum(weights * (x - mean) ** 2)))
        prior_sd = (r.high - r.low) / np.sqrt(12.0)  # a uniform prior over the box
        rows.append({"parameter": n, "prior_low": r.low, "prior_high": r.high, "mean": mean, "sd": sd,
                     "prior_sd": prior_sd, "sd_over_prior_sd": sd / prior_sd,
                     "identification": identification(sd / prior_sd),
                     **{f"q{int(q * 100):02d}": weighted_quantile(x, weights, q)
                        for q in (0.05, 0.25, 0.5, 0.75, 0.95)}})
    return pd.DataFrame(rows), estimate


def identification(sd_ratio: float) -> str:
    """How far the data pin a parameter down: its posterior sd against its prior's. Under a uniform prior a
    ratio near 1 means the targets say nothing about it, 0.5 that they halve its uncertainty. The cut-offs are a
    reading aid, stated in the report."""
    if sd_ratio < 0.3:
        return "pinned down"
    if sd_ratio < 0.7:
        return "partly"
    return "not identified"


def weighted_correlations(frame: pd.DataFrame, weights: np.ndarray) -> pd.DataFrame:
    """The posterior's weighted correlation matrix: strong correlations are ridges, parameter pairs the targets
    identify only together (e.g. an origin pool and the cost of moving from it)."""
    x = frame.to_numpy(float)
    centred = x - weights @ x
    cov = (centred * weights[:, None]).T @ centred
    sd = np.sqrt(np.diag(cov))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.outer(sd, sd)
    return pd.DataFrame(corr, index=frame.columns, columns=frame.columns)


def _provenance(spec: CalibrationSpec, problem: _Problem, waves: list[dict[str, Any]],
                sampler: SweepBatchSampler) -> dict[str, Any]:
    from importlib import metadata

    from sim.run import code_version

    final = waves[-1]["temperature"] if waves else float("nan")
    return {
        "method": ("ABC-SMC (pyabc " + metadata.version("pyabc") + "): uniform priors over the spec's boxes; "
                   "stochastic acceptor with an independent Gaussian kernel on the log targets, variance "
                   f"sigma_i^2 + model discrepancy {spec.model_discrepancy:g}^2, one-sided targets censored at "
                   f"their bound; temperature schedule falling to 1 over {spec.abc.generations} generations of "
                   f"{spec.abc.population} particles; {spec.abc.replications} seed(s) per particle; the final "
                   "population's importance weights are the posterior weights"),
        "method_short": f"ABC-SMC {spec.name}",
        "exact": bool(final == 1.0),
        "final_temperature": final,
        "spec": spec.model_dump(mode="json"),
        "fit_kind": spec.fit_kind,
        "targets": list(problem.ids),
        "waves": waves,
        "batches": len(sampler.batches),
        "runs": int(problem.runs),
        "seeds": {"root_seed": spec.root_seed, "proposals": "SeedSequence(root_seed, spawn_key=(t + 1, batch, i))",
                  "runs": "common_seed(sha256(root_seed:label), particle, replicate)",
                  "replications": spec.abc.replications},
        "scale": spec.scale,
        "years": [2010, spec.end],
        "estimate": "posterior mean",
        "database": "abc.db",
        "date": dt.date.today().isoformat(),
        "code_version": code_version(),
    }


def _write_outputs(result: AbcResult, spec: CalibrationSpec) -> None:
    from experiments.posterior import write_posterior

    out = result.folder
    samples = result.parameters.to_dict("records")
    write_posterior(out / "posterior.json", samples, result.weights.tolist(), result.provenance)
    result.summary.to_csv(out / "posterior_summary.csv", index=False)
    result.correlations.to_csv(out / "posterior_correlations.csv", index_label="parameter")
    result.predictive.to_csv(out / "predictive.csv", index=False)
    (out / "calibrated.yaml").write_text(calibrated_yaml(result, spec), "utf-8")
    (out / "report.md").write_text(report(result, spec), "utf-8")


def calibrated_yaml(result: AbcResult | Any, spec: CalibrationSpec) -> str:
    """The calibrated parameter file: the posterior mean of each parameter, its sd and intervals, its prior.
    ``result``: anything with ``summary``, ``estimate`` and ``provenance`` as ``AbcResult`` has them (also the
    emulator posterior, experiments/calibration/emulator_posterior.py)."""
    from sim.params import default_behaviour

    prior = default_behaviour(calibrated=False).model_dump()
    params = {}
    for row in result.summary.itertuples():
        rng = spec.parameters[row.parameter]
        params[row.parameter] = {
            "value": result.estimate[row.parameter], "sd": float(f"{row.sd:.3g}"),
            "interval_50": [float(f"{row.q25:.4g}"), float(f"{row.q75:.4g}")],
            "interval_90": [float(f"{row.q05:.4g}"), float(f"{row.q95:.4g}")],
            "prior_value": behaviour_path_value(prior, row.parameter), "prior_range": [rng.low, rng.high]}
    header = (f"# Behavioural parameters estimated by hukou calibrate ({result.provenance['method_short']};\n"
              "# docs/validation.md). value: the posterior mean (the model's default); sd, interval_50 and\n"
              "# interval_90: the weighted posterior sample's spread and central intervals (posterior.json).\n")
    return header + dump_yaml({"parameters": params, "provenance": result.provenance}, width=110)


def _strong_pairs(corr: pd.DataFrame, threshold: float = 0.5) -> list[tuple[str, str, float]]:
    """Parameter pairs whose posterior correlation is at least ``threshold`` in size, strongest first."""
    names = list(corr.columns)
    pairs = [(a, b, float(corr.iloc[i, j])) for i, a in enumerate(names) for j, b in enumerate(names)
             if i < j and np.isfinite(corr.iloc[i, j]) and abs(corr.iloc[i, j]) >= threshold]
    return sorted(pairs, key=lambda p: -abs(p[2]))


def posterior_table(summary: pd.DataFrame, correlations: pd.DataFrame) -> list[str]:
    """Markdown lines: how to read identification, prior against posterior per parameter, the strong correlations."""
    lines = ["Prior: uniform over the box (its sd is the box's width / √12). Identification reads the posterior sd "
             "against the prior's: below 0.3 pinned down, 0.3–0.7 partly, above 0.7 not identified by these "
             "targets.", "",
             "| parameter | prior box | prior sd | posterior mean | posterior sd | sd / prior sd | identification "
             "| 50% interval | 90% interval |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in summary.itertuples():
        lines.append(f"| `{r.parameter}` | {r.prior_low:g} – {r.prior_high:g} | {r.prior_sd:.3g} | {r.mean:.4g} | "
                     f"{r.sd:.3g} | {r.sd_over_prior_sd:.2f} | {r.identification} | {r.q25:.4g} – {r.q75:.4g} | "
                     f"{r.q05:.4g} – {r.q95:.4g} |")
    strong = _strong_pairs(correlations)
    lines += ["", "Posterior correlations of |r| ≥ 0.5 (ridges: pairs the targets identify only together): "
              + ("; ".join(f"`{a}` and `{b}` {r:+.2f}" for a, b, r in strong) if strong else "none") + "."]
    return lines


def report(result: AbcResult, spec: CalibrationSpec) -> str:
    """The posterior and the posterior predictive fit per target, as Markdown."""
    p = result.provenance
    state = "exact posterior" if p["exact"] else "tempered: wider than the posterior"
    lines = [f"# Calibration {spec.name} (ABC-SMC)", "", spec.description, "",
             f"{p['runs']} runs at {spec.scale:g} persons per agent in {p['batches']} sweep batches; "
             f"final temperature {p['final_temperature']:g} ({state}).", "",
             *posterior_table(result.summary, result.correlations)]
    pr = result.predictive
    lines += ["", f"Posterior predictive (parameters and seeds, no measurement error): {int(pr['inside_50'].sum())}"
              f" of {len(pr)} observations inside the 50% interval, {int(pr['inside_90'].sum())} inside the 90%.",
              "", "| target | observed | predictive mean | 90% interval |", "|---|---|---|---|"]
    for r in pr.itertuples():
        lines.append(f"| {r.target_id} | {r.observed:,.4g} | {r.mean:,.4g} | {r.q05:,.4g} – {r.q95:,.4g} |")
    return "\n".join(lines) + "\n"
