"""``paired_seeds``: every scenario runs the baseline's seeds (the scenario builder's pairing), while specs that do
not set it keep their seeds, canonical form and hashes, so existing sweeps resume and reproduce unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from experiments import build_design, load_spec
from experiments.plan import plan_runs
from experiments.seeds import run_seed
from experiments.spec import spec_from_dict

SPECS = Path(__file__).resolve().parents[2] / "experiments" / "specs"
# spec_hash of the shipped specs before paired_seeds existed (main at 9ab6294): a spec without it must hash the same.
# compare_regimes.yaml draws parameter sets from the shipped posterior since issue 13: its seeds are the draws'
# (tests/experiments/test_installed_posterior.py)
HASHES = {"district_bonus_sweep.yaml": "96cc343c5a75e75b", "quota_sweep.yaml": "f52f1731ff47ae4d",
          "sensitivity_behaviour.yaml": "efa5e41f52103897"}


@pytest.mark.parametrize("name", sorted(HASHES))
def test_existing_specs_keep_their_hash_and_seeds(name: str) -> None:
    spec = load_spec(SPECS / name)
    assert "paired_seeds" not in spec.canonical()
    assert spec.spec_hash() == HASHES[name]
    design = build_design(spec)
    for task in plan_runs(spec, design)[:40]:
        assert task.config.seed == run_seed(spec.root_seed, task.scenario, task.replicate)


def test_paired_seeds_give_every_scenario_the_baseline_seeds() -> None:
    doc = {"name": "p", "levers": {"regimes": ["historical", "talent_only", "open_registration"]},
           "replications": 3, "scale": 20000, "end": 2012, "root_seed": 7}
    plain, paired = spec_from_dict(doc), spec_from_dict({**doc, "paired_seeds": True})
    assert paired.canonical()["paired_seeds"] is True and paired.spec_hash() != plain.spec_hash()
    by_scenario: dict[int, list[int]] = {}
    for task in plan_runs(paired, build_design(paired)):
        by_scenario.setdefault(task.scenario, []).append(task.config.seed)
    seeds = list(by_scenario.values())
    assert len(seeds) == 3 and seeds[0] == seeds[1] == seeds[2] and len(set(seeds[0])) == 3
    # the baseline's seeds are the ones a sweep without paired_seeds gives it: its runs are the same runs
    plain_tasks = plan_runs(plain, build_design(plain))
    first = plain_tasks[0].scenario
    assert [t.config.seed for t in plain_tasks if t.scenario == first] == seeds[0]
    assert len({t.config.seed for t in plain_tasks}) == 9  # unpaired: every run its own seed
