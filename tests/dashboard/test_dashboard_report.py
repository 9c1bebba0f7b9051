"""``hukou report``: a self-contained briefing of the fixture sweep in both languages, with the findings, no
network script, and no English metric name in the Chinese headings; one-line errors for a bad folder."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from dashboard.i18n import _METRICS, metric_label
from hukou_cli.main import main


def _headings(text: str) -> list[str]:
    """The text of the h1–h3 headings and of every figure title and subplot title."""
    found = [re.sub(r"<[^>]+>", "", h) for h in re.findall(r"<h[1-3][^>]*>(.*?)</h[1-3]>", text, flags=re.S)]
    decoder = json.JSONDecoder()
    for match in re.finditer(r"Plotly\.newPlot\(", text):
        at, parts = match.end(), []
        for _ in range(3):  # the div id, the traces, the layout
            at = len(text) - len(text[at:].lstrip(" \n,"))
            value, at = decoder.raw_decode(text, at)
            parts.append(value)
        layout = parts[2]
        found.append(layout.get("title", {}).get("text", ""))
        found.extend(a.get("text", "") for a in layout.get("annotations", []))
    return found


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_of_the_fixture(results_root: Path, tmp_path: Path, lang: str, capsys: Any) -> None:
    out = tmp_path / f"briefing_{lang}.html"
    assert main(["report", str(results_root / "dash_fixture"), "--lang", lang, "--out", str(out)]) == 0
    assert "hukou report: wrote" in capsys.readouterr().out
    text = out.read_text("utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert not re.search(r"<script[^>]*\bsrc\s*=", text)  # plotly.js is inside, nothing is fetched
    assert text.count("Plotly.newPlot(") == 3
    assert "hukou sweep " in text and f"hukou report {results_root / 'dash_fixture'} --lang {lang}" in text
    # the Python that runs the sweep's runs, and the Chinese font inside the file (no CJK font needed to read it)
    assert "HukouModel(RunConfig(seed=seed, end=2013, scale=20000.0" in text
    assert "@font-face{font-family:hukou-cjk;src:url(data:font/woff;base64," in text
    headings = _headings(text)
    assert len(headings) >= 12
    if lang == "en":
        assert "Under Talent only, Shenzhen's hukou share of residents in 2013 is" in text
        assert "Talent only against the historical rules" in headings
        assert "The bands are seed noise only" in text and "(issue 13)" in text
        assert "Validation: the model puts Chengdu's residents at the 2020 census 1.6% below" in text
        assert "Hukou share of residents" in headings
    else:
        assert "在“仅限人才”下，深圳2013年的常住人口户籍比例比“历史政策”" in text
        assert "区间只反映种子噪声" in text and "验证：模型对成都2020年普查常住人口的模拟值低于普查 1.6%" in text
        english = {pair[0] for pair in _METRICS.values()} | {metric_label(m, "en") for m in _METRICS}
        left = [h for h in headings if any(name in h for name in english)]
        assert not left, left
        assert metric_label("hukou_share", "zh") in headings
        assert not [h for h in headings if re.search(r"[A-Za-z]{4,}", h) and "dash_fixture" not in h], headings


def test_report_refuses_a_bad_folder_in_one_line(results_root: Path, tmp_path: Path, capsys: Any) -> None:
    missing = tmp_path / "nowhere"
    assert main(["report", str(missing), "--out", str(tmp_path / "x.html")]) == 2
    assert main(["report", str(results_root), "--out", str(tmp_path / "x.html")]) == 2  # the folder of sweeps
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text("{}", "utf-8")
    assert main(["report", str(broken), "--out", str(tmp_path / "x.html")]) == 2
    assert main(["report", str(results_root / "dash_fixture"), "--lang", "fr", "--out", str(tmp_path / "x.html")]) == 2
    captured = capsys.readouterr()
    lines = [line for line in (captured.out + captured.err).splitlines() if line]
    assert len(lines) == 4 and all(line.startswith("hukou: error: ") for line in lines)
    assert "no such sweep folder" in lines[0] and "name one of them (dash_fixture)" in lines[1]
    assert "scenarios.parquet is missing" in lines[2] and "en or zh" in lines[3]
    assert not (tmp_path / "x.html").exists()


def test_compare_page_downloads_the_same_briefing(pages: dict[str, Any]) -> None:
    sent = pages["compare"].on_download_briefing(1, "dash_fixture", "zh")
    assert sent["filename"] == "hukou-briefing-dash_fixture-zh.html"
    assert "在“仅限人才”下" in sent["content"] and "<h1>简报：dash_fixture</h1>" in sent["content"]
    assert "下载简报" in str(pages["compare"].layout(exp="dash_fixture", lang="zh"))
