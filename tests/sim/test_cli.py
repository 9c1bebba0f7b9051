"""Bad input at the command line: exit code 2, one line, no traceback, no run folder left behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hukou_cli.main import main


def _fails_cleanly(capsys: pytest.CaptureFixture, argv: list[str], must_mention: str) -> str:
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    assert must_mention in err, err
    return err


def test_unknown_option(capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    _fails_cleanly(capsys, ["run", "--colour", "red", "--out", str(tmp_path / "r")], "--colour")
    assert not (tmp_path / "r").exists()


def test_year_range_the_data_do_not_cover(capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    _fails_cleanly(capsys, ["run", "--start", "2005", "--out", str(tmp_path / "r")], "2005")
    _fails_cleanly(capsys, ["run", "--end", "2090", "--out", str(tmp_path / "r")], "2090")
    assert not (tmp_path / "r").exists()


def test_negative_scale(capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    _fails_cleanly(capsys, ["run", "--scale", "-5", "--out", str(tmp_path / "r")], "scale")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(("text", "line", "field"), [
    ("end: 2020\nscale: [1, 2\n", ":3", ""),
    ("end: 2020\nbehaviour:\n  beta_rent: high\n", ":3", "behaviour.beta_rent"),
    ("end: 2020\nbehaviour:\n  beta_rnet: 1.0\n", ":3", "behaviour.beta_rnet"),
    ("end: 2020\nend: 2021\n", ":2", "end"),
    ("seed: 1\nscale: NO\n", ":2", "scale"),
    # issue 12 (review V5): NaN and infinity once ran to exit 0 (a NaN rent weight gave Guangzhou 55.9 M migrants),
    # and infinite or tiny scales passed validation and failed every run
    ("end: 2012\nbehaviour:\n  beta_rent: .nan\n", ":3", "behaviour.beta_rent"),
    ("end: 2012\nbehaviour:\n  beta_rent: nan\n", ":3", "behaviour.beta_rent"),
    ("end: 2012\nbehaviour:\n  origin_cost: {guangdong: {shenzhen: .inf}}\n", ":3", "behaviour.origin_cost"),
    ("end: 2012\nscale: .inf\n", ":2", "scale"),
    ("end: 2012\nscale: 1e-300\n", ":2", "scale"),
    ("end: 2012\noverrides:\n  points_channel.guangzhou_2011.quota: .nan\n", ":3", "quota"),
    ("end: 2012\noverrides:\n  points_channel.guangzhou_2011.quota: -8000\n", ":3", "quota"),
    ("end: 2012\noverrides:\n  points_channel.guangzhou_2011.quota: lots\n", ":3", "quota"),
    # issue 10 (the mechanism contract): a null take-up ran until float(None) failed in the first round, and a
    # route the rules cannot read until check_spec raised a ValueError there; both are refused before the run
    ("end: 2012\noverrides:\n  talent_channel.guangzhou_2016.take_up: null\n", ":3",
     "overrides.talent_channel.guangzhou_2016.take_up: missing parameter"),
    ("end: 2012\noverrides:\n  talent_channel.guangzhou_2016.route_bachelor: {education_min: bachelour}\n", ":3",
     "overrides.talent_channel.guangzhou_2016.route_bachelor.education_min: 'bachelour' is not one of"),
])
def test_malformed_config_file(capsys: pytest.CaptureFixture, tmp_path: Path, text: str, line: str,
                               field: str) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(text)
    err = _fails_cleanly(capsys, ["run", "--config", str(config), "--out", str(tmp_path / "r")], "bad.yaml" + line)
    assert field in err
    assert not (tmp_path / "r").exists()


def test_unknown_regime_lists_the_available_ones(capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    _fails_cleanly(capsys, ["run", "--regimes", "atlantis", "--out", str(tmp_path / "r")], "historical")


def test_existing_run_folder_is_never_overwritten(capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    out = tmp_path / "r"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    _fails_cleanly(capsys, ["run", "--end", "2011", "--scale", "10000", "--out", str(out)], "already exists")
    assert (out / "keep.txt").read_text() == "precious"


def test_a_good_run_writes_the_run_folder(capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert main(["run", "--end", "2012", "--scale", "10000", "--out", str(out), "--quiet"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["city_year.parquet", "config.yaml", "district_year.parquet",
                                                     "manifest.json"]
    assert "shenzhen" in capsys.readouterr().out
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["git_dirty"] in (True, False, None) and "git_commit" in manifest  # review R7: dirty flag


def test_a_run_where_no_one_settles_shows_no_nan(capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    """First-use review: `hukou run --regimes national_baseline` printed "nan%" for the talent share of settlers."""
    assert main(["run", "--regimes", "national_baseline", "--end", "2011", "--scale", "40000", "--out",
                 str(tmp_path / "nb"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "nan" not in out and "—" in out


def test_bench_prints_its_measures_last(capsys: pytest.CaptureFixture) -> None:
    assert main(["bench", "--agents", "2000", "--years", "1", "--threads", "2"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    speed, memory = (float(part.split("=")[1]) for part in last.split())
    assert last.startswith("migrant_years_per_s=") and " peak_bytes_per_agent=" in last
    assert speed > 0 and memory > 0


def test_bench_refuses_zero_threads(capsys: pytest.CaptureFixture) -> None:
    _fails_cleanly(capsys, ["bench", "--agents", "2000", "--threads", "0"], "--threads")


def test_run_help_shows_each_options_default(capsys: pytest.CaptureFixture) -> None:
    """First-use review: `hukou run --help` hid the defaults (options default to None so a --config file can set
    them); the help now names RunConfig's."""
    from hukou_cli.main import RUN_DEFAULTS
    from sim.config import RunConfig

    for field, shown in RUN_DEFAULTS.items():
        value = RunConfig.model_fields[field].default
        assert shown == (" ".join(value) if isinstance(value, tuple) else "on" if value is True
                         else f"{value:g}" if isinstance(value, float) else str(value)), field
    assert main(["run", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for shown in ("historical, or the --config file's", "2010, or the --config file's", "2035, or the --config",
                  "100, or the --config file's"):
        assert shown in text.replace("│ ", "").replace(" │", ""), shown
