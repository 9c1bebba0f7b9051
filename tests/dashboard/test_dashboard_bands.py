"""What the bands include, said from the sweep's manifest (issue 13): a sweep that draws two parameter sets from a
posterior says "parameters and seeds" and that reform and baseline are paired on them, on the compare page, in the
overview's findings, in the finding sentences, in the briefing and in ``hukou query``'s summaries; a sweep that
draws from a one-point posterior (the installed calibration as one point) says "seed noise only", in both languages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from dashboard.data import Experiment, Registry
from hukou_cli.main import main


@pytest.fixture
def bands_registry(bands_root: Path, pages: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The pages (the app is built over the shared fixture) reading the two sweeps of this module."""
    monkeypatch.setattr("dashboard.data._REGISTRY", Registry(bands_root))
    return pages


def _keys(experiment: Experiment) -> tuple[str, str]:
    frame = experiment.scenarios()
    by_regime = dict(zip(frame["regimes"], frame["key"], strict=True))
    return str(by_regime["historical"]), str(by_regime["talent_only"])


def test_manifests_and_band_come_from_the_draws(bands_root: Path) -> None:
    params = Experiment("bands_params", bands_root / "bands_params").band
    assert params.parameters and params.paired and (params.draws, params.distinct, params.seeds) == (2, 2, 1)
    assert params.method == "ABC-SMC (test)"
    point = Experiment("bands_point", bands_root / "bands_point").band
    assert not point.parameters and point.paired and (point.draws, point.distinct) == (2, 1)
    assert point.label == "seed noise only"
    kept = yaml.safe_load((bands_root / "bands_point" / "spec.yaml").read_text("utf-8"))
    assert kept["parameter_draws"]["file"].endswith("posterior.json")  # the sweep's own copy names its file


def test_finding_sentences_say_what_the_band_includes(bands_root: Path) -> None:
    from dashboard.findings import experiment_findings, finding_sentence

    for name, en_words, zh_words in (
            ("bands_params", ("2 runs paired on parameter set and seed", "parameter and seed uncertainty"),
             ("2次运行按参数组与种子逐一配对", "参数与种子的不确定性")),
            ("bands_point", ("2 seeds paired", "from seed noise"), ("2对相同种子逐一配对", "种子噪声"))):
        experiment = Experiment(name, bands_root / name)
        base, reform = _keys(experiment)
        found = experiment_findings(experiment, reform, base, 2011.0, ["shenzhen"], ["hukou_share"])
        assert len(found) == 1 and found[0].paired and found[0].has_band
        en, zh = finding_sentence(found[0], "R", "B", "en"), finding_sentence(found[0], "R", "B", "zh")
        assert all(w in en for w in en_words), en
        assert all(w in zh for w in zh_words), zh
        assert ("parameter" in en) == (name == "bands_params")


@pytest.mark.parametrize(("name", "en", "zh"), [
    ("bands_params", "Band includes: parameters and seeds", "区间包含：参数与随机种子"),
    ("bands_point", "Band includes: seed noise only", "区间包含：仅随机种子噪声")])
def test_compare_page_labels_its_effect_band(bands_registry: dict[str, Any], bands_root: Path, name: str, en: str,
                                             zh: str) -> None:
    compare = bands_registry["compare"]
    base, reform = _keys(Experiment(name, bands_root / name))
    block = str(compare.briefing(name, base, reform, "shenzhen", "en"))
    assert "cmp-band" in block and en in block
    if name == "bands_params":
        assert "2 parameter sets drawn from the posterior (ABC-SMC (test); 2 distinct), 1 seed(s) each" in block
        assert "share draws and seeds" in block
    else:
        assert "come from a posterior with one parameter set (point estimate)" in block
    assert zh in str(compare.briefing(name, base, reform, "shenzhen", "zh"))
    notes = compare.update(name, base, reform, "shenzhen", "city", "en")[5]
    assert notes[0].id == "cmp-chart-band" and notes[0].children.startswith(en)
    # both sweeps share draws and seeds: the chart's band is paired run by run (tests/dashboard/test_dashboard_compare)
    assert "taken run by run: each reform run less the baseline run on the same parameter draw and seed" \
        in notes[0].children


@pytest.mark.parametrize(("name", "label", "noise"), [
    ("bands_params", "Band includes: parameters and seeds", "by more than parameter and seed uncertainty"),
    ("bands_point", "Band includes: seed noise only", "by more than seed noise")])
def test_overview_findings_label_their_band(bands_registry: dict[str, Any], bands_root: Path, name: str, label: str,
                                            noise: str) -> None:
    base, reform = _keys(Experiment(name, bands_root / name))
    box = str(bands_registry["overview"].findings(name, [base, reform], "hukou_share", 2011.0, "shenzhen", "en"))
    assert "ov-band" in box and label in box and noise in box


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_briefing_says_what_the_bands_include(bands_root: Path, lang: str) -> None:
    from dashboard.report import build_report

    params = build_report(Experiment("bands_params", bands_root / "bands_params"), lang)
    point = build_report(Experiment("bands_point", bands_root / "bands_point"), lang)
    if lang == "en":
        assert "Band includes: parameters and seeds" in params and "seed noise only" not in params
        assert "The bands include parameter uncertainty and seed noise" in params
        assert "Distinguishable from parameter and seed uncertainty" in params
        assert "95% confidence interval across parameter sets and seeds" in params
        assert "Band includes: seed noise only" in point and "parameters and seeds" not in point
        assert "The bands are seed noise only: the 2 parameter draws come from a posterior with one" in point
        assert "Distinguishable from seed noise" in point
    else:
        assert "区间包含：参数与随机种子" in params and "区间包含参数不确定性与种子噪声" in params
        assert "仅随机种子噪声" not in params and "可与参数与种子的不确定性区分" in params
        assert "区间包含：仅随机种子噪声" in point
        assert "区间只反映种子噪声：2组参数抽自只有一组参数的后验分布（点估计）" in point


def test_query_summaries_carry_the_manifest_band(bands_root: Path, capsys: pytest.CaptureFixture) -> None:
    expected = {"bands_params": "parameters and seeds", "bands_point": "seed noise only"}
    for name, band in expected.items():
        folder = str(bands_root / name)
        assert main(["query", folder, "SELECT DISTINCT band FROM summary_city_year", "--csv"]) == 0
        assert capsys.readouterr().out.splitlines() == ["band", band]
        assert main(["query", folder, "SELECT DISTINCT band, paired FROM summary_difference_city_year",
                     "--csv"]) == 0
        assert capsys.readouterr().out.splitlines() == ["band,paired", f'"{band}, paired on (draw, seed)",True']
