""""Reproduce in Python" (issue 14): the snippets run as shown and give the view's runs and rows; links by
manifest hash survive a renamed folder and say so when the experiment is gone; the overview's key findings."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from dashboard.data import Registry, registry


def _keys() -> dict[str, str]:
    frame = registry().get("dash_fixture").scenarios()
    return dict(zip(frame["regimes"], frame["key"], strict=True))


def _run(snippet: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(compile(snippet, "<reproduce snippet>", "exec"), namespace)  # the page's own code, run as shown
    return namespace


_EXTRACTED: dict[str, Path] = {}


def _folder(key: str, replicate: int) -> Path:
    """The run's folder as it wrote it, extracted from the sweep's dataset (``hukou extract``)."""
    from experiments import extract_run

    run = f"s{int(key, 16):015x}-r{replicate:04d}"
    if run not in _EXTRACTED:
        _EXTRACTED[run] = Path(tempfile.mkdtemp(prefix="hukou-reproduce-")) / run
        extract_run(registry().get("dash_fixture").folder, run, _EXTRACTED[run])
    return _EXTRACTED[run]


def test_the_model_snippet_of_a_view_runs_as_shown_and_gives_the_view_s_runs(pages: dict[str, Any]) -> None:
    """The map's snippet (one regime, both seeds of the fixture: 20,000 persons per agent, 2010–2013) is executed
    as the page shows it: every run's config hash is the sweep run's, and its city table is the run's file."""
    key = _keys()["talent_only"]
    snippet, _ = pages["map"].reproduce("dash_fixture", key, "level", key, "migrants", 2013.0, "shenzhen")
    assert "HukouModel(RunConfig(" in snippet and "regimes=('talent_only',)" in snippet
    namespace = _run(snippet)
    seeds = {json.loads((_folder(key, r) / "identity.json").read_text())["seed"]: r for r in (0, 1)}
    assert {seed for _, seed in namespace["city_year"]} == set(seeds)
    for (label, seed), frame in namespace["city_year"].items():
        folder = _folder(key, seeds[seed])
        assert label == "Talent only"   # the name the page shows
        stored = pd.read_parquet(folder / "city_year.parquet")
        pd.testing.assert_frame_equal(frame.reset_index(drop=True), stored, check_dtype=False)
    last = namespace["model"].config
    identity = json.loads((_folder(key, seeds[last.seed]) / "identity.json").read_text())
    assert last.config_hash() == identity["config_hash"]


def test_the_query_snippets_give_the_rows_the_pages_show(pages: dict[str, Any]) -> None:
    keys = _keys()
    both = list(keys.values())
    _, sql = pages["overview"].reproduce("dash_fixture", both, "hukou_share", 2013.0, "guangzhou")
    rows = _run(sql)["rows"]
    _, table, *_ = pages["overview"].update("dash_fixture", both, "hukou_share", 2013.0, "guangzhou", "en")
    assert len(rows) == len(table) == 14 and set(rows["city"]) == {"guangzhou"}
    share = rows[(rows["label"] == "regimes=historical") & (rows["metric"] == "hukou_share")]["mean"].item()
    shown = next(r for r in table
                 if r["Regime"] == "The historical rules" and r["Metric"] == "Hukou share of residents")
    assert shown["Mean"] == pytest.approx(share * 100, abs=0.01)

    for view in ("city", "zones"):
        _, sql = pages["compare"].reproduce("dash_fixture", keys["historical"], keys["talent_only"], "chengdu", view)
        ours = _run(sql)["differences"]
        page = pages["compare"].differences("dash_fixture", keys["historical"], keys["talent_only"], "chengdu", view)
        columns = ["year", "metric", *(["zone"] if view == "zones" else [])]
        merged = page.merge(ours, on=columns, suffixes=("_page", "_snippet"))
        assert len(merged) == len(page) > 0
        assert (merged["diff_page"] - merged["diff_snippet"]).abs().max() < 1e-9
        assert ((merged["low_page"] - merged["low_snippet"]).abs().max() or 0) < 1e-9

    _, sql = pages["map"].reproduce("dash_fixture", keys["talent_only"], "change", keys["historical"], "migrants",
                                    2013.0, "chengdu")
    rows = _run(sql)["rows"]
    districts = registry().get("dash_fixture").districts()
    assert len(rows) == 2 * (districts["city"] == "chengdu").sum()


def test_the_calculator_validation_and_builder_snippets_run(pages: dict[str, Any]) -> None:
    calc = pages["calculator"]
    values = dict(calc.DEFAULTS)
    out = calc.update(1, *[values[f] for f in calc.FIELDS], "en")
    command = out[8]
    python = command.split("# the same in Python\n", 1)[1]
    namespace = _run(python.replace("print(", "(lambda *a, **k: None)("))
    head = next(r for r in calc.calculate_all(values, "en")[0].to_dict("records") if r["regime"] == "shenzhen")
    assert namespace["result"].total == head["total"]

    code, sql = pages["validation"].reproduce("shipped", "shenzhen", "validation")
    assert "run_validation('validation/again', seeds=5" in code
    rows = _run(sql)["rows"]
    _, table, _ = pages["validation"].validation_view("shipped", "shenzhen", "validation", "en")
    assert len(rows) == len(table) > 0 and set(rows["city"]) == {"shenzhen"}

    sb = pages["scenarios"]
    form = {"base": "historical", "city": "guangzhou", "quota_factor": 2.0, "min_score_shift": 0, "indicator": None,
            "indicator_factor": 1, "district_bonus_factor": 1, "talent_age_shift": 0, "name": "广州 quota ×2",
            "end": 2020, "replications": 2, "scale": 20000}
    snippet = sb.reproduce(*[form[f] for f in sb.FIELDS], "en")
    levers_line = next(line for line in snippet.splitlines() if line.startswith("levers = "))
    namespace = _run("from dashboard.levers import Levers\n" + levers_line)
    assert namespace["levers"] == sb.levers_of(form)
    assert sb.reproduce(*[{**form, "quota_factor": 99}[f] for f in sb.FIELDS], "en").startswith("# ")


def test_every_page_has_the_reproduce_box(pages: dict[str, Any]) -> None:
    for name in ("overview", "compare", "map", "calculator", "validation", "scenarios"):
        page = str(pages[name].layout(exp="dash_fixture", lang="zh"))
        assert f"{name}-reproduce" in page or "calc-command" in page, name
        assert "用 Python 复现" in page or "复现命令" in page, name


def test_links_carry_the_manifest_hash_and_find_a_renamed_experiment(results_root: Path, tmp_path: Path,
                                                                     pages: dict[str, Any]) -> None:
    experiment = registry().get("dash_fixture")
    digest = experiment.manifest_hash
    assert len(digest) == 12 and registry().by_hash(digest) is experiment
    nav = str(pages["overview"].layout(exp="dash_fixture", lang="en"))
    assert f"manifest={digest}" in nav  # the navigation keeps it

    renamed = tmp_path / "results"
    shutil.copytree(experiment.folder, renamed / "compare_2035_final")
    moved = Registry(renamed)
    assert moved.by_hash(digest).id == "compare_2035_final" and moved.by_hash("0" * 12) is None
    assert moved.by_hash("../../etc") is None

    page = str(pages["compare"].layout(exp="old_name", manifest=digest, lang="en"))
    assert "experiment-renamed" in page and "is now named dash_fixture" in page
    assert "experiment-substituted" not in page

    gone = str(pages["compare"].layout(exp="deleted_sweep", manifest="0123456789ab", lang="en"))
    assert "experiment-substituted" in gone and "not here (manifest 0123456789ab" in gone
    zh = str(pages["map"].layout(exp="deleted_sweep", manifest="0123456789ab", lang="zh"))
    assert "链接指向的实验不在此处" in zh
    changed = str(pages["overview"].layout(exp="dash_fixture", manifest="0123456789ab", lang="en"))
    assert "are not those this link was made from" in changed


def test_the_overview_states_its_key_findings_with_noise_and_validation(pages: dict[str, Any]) -> None:
    keys = _keys()
    both = list(keys.values())
    box = str(pages["overview"].findings("dash_fixture", both, "hukou_share", 2013.0, "all", "en"))
    assert box.count("Under Talent only") == 3  # one per city
    assert "distinguishable from seed noise" in box and "Validation: the model puts" in box
    assert "regimes shown differ from the historical rules" in box
    zh = str(pages["overview"].findings("dash_fixture", both, "hukou_share", 2013.0, "chengdu", "zh"))
    assert zh.count("种子噪声") >= 2 and "验证：" in zh and "成都" in zh and "Under" not in zh
    alone = str(pages["overview"].findings("dash_fixture", [keys["historical"]], "hukou_share", 2013.0, "all", "en"))
    assert "ov-findings-none" in alone


def test_a_run_block_restates_changed_behaviour_overrides_and_settings() -> None:
    """What the fixture's configs do not exercise: behavioural parameters and policy overrides that differ from
    the defaults, and settings beside them. The block, executed, builds configs with the original's hash."""
    import yaml

    from dashboard.reproduce import run_block
    from experiments.spec import set_behaviour_path
    from sim.config import RunConfig
    from sim.params import default_behaviour

    behaviour = set_behaviour_path(default_behaviour().model_dump(mode="json"), "rural_share", 0.6)
    behaviour = set_behaviour_path(behaviour, "education_shares.rural.0", 0.05)
    original = RunConfig(end=2014, scale=5000.0, seed=9, regimes=("guangzhou",), step_months=1, history=False,
                         behaviour=behaviour, overrides={"points_channel.guangzhou_2018.quota": 5000})
    doc = yaml.safe_load(yaml.safe_dump(original.model_dump(mode="json"), allow_unicode=True))  # as config.yaml
    doc.pop("seed")
    block, changed = run_block("guangzhou quota", doc, [9, 10])
    assert changed and "behaviour['rural_share'] = 0.6" in block

    made: list[Any] = []

    class Recorder:  # stands in for HukouModel: the configs are what is checked here
        def __init__(self, config: Any) -> None:
            made.append(config)

        def run(self) -> Recorder:
            return self

        def city_year(self) -> None:
            return None

        district_year = city_year

    namespace = {"RunConfig": RunConfig, "HukouModel": Recorder, "default_behaviour": default_behaviour,
                 "city_year": {}, "district_year": {}}
    exec(compile(block, "<run block>", "exec"), namespace)
    assert [c.seed for c in made] == [9, 10]
    assert made[0].config_hash() == original.config_hash()
    assert set(namespace["city_year"]) == {("guangzhou quota", 9), ("guangzhou quota", 10)}
