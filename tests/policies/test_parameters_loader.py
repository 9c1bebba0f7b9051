"""The parameter loader refuses what it cannot vouch for, naming file, line and dotted path."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from policies.errors import InputError
from policies.mechanisms import MECHANISMS, variants_of
from policies.parameters import Variant, load_variants


def _load(tmp_path: Path, text: str) -> tuple[Path, Callable[[], dict[str, Variant]]]:
    path = tmp_path / "params.yaml"
    path.write_text(text, encoding="utf-8")
    return path, lambda: load_variants(path, "test")


def test_value_without_ref_or_assumption_refused(tmp_path: Path) -> None:
    """A value with neither ref: nor assumption: is refused at the entry's line."""
    path, load = _load(tmp_path, "v:\n  params:\n    quota:\n      value: 10\n")
    with pytest.raises(InputError) as err:
        load()
    assert (err.value.file, err.value.line, err.value.field) == (str(path), 4, "v.params.quota")
    assert "ref:" in err.value.message


def test_blank_assumption_refused(tmp_path: Path) -> None:
    """An empty assumption is no reason."""
    _, load = _load(tmp_path, "v:\n  params:\n    quota: {value: 10, assumption: '  '}\n")
    with pytest.raises(InputError):
        load()


def test_unknown_entry_key_refused(tmp_path: Path) -> None:
    """An unknown key inside an entry is refused with its line and dotted path."""
    path, load = _load(tmp_path, "v:\n  params:\n    quota:\n      - value: 10\n        ref: r\n"
                                 "        sourse: typo\n")
    with pytest.raises(InputError) as err:
        load()
    assert (err.value.file, err.value.line, err.value.field) == (str(path), 6, "v.params.quota[0].sourse")


def test_unknown_variant_key_refused(tmp_path: Path) -> None:
    """An unknown key of a variant is refused with its line."""
    path, load = _load(tmp_path, "v:\n  description: d\n  parms: {}\n")
    with pytest.raises(InputError) as err:
        load()
    assert (err.value.line, err.value.field) == (3, "v.parms")


def test_end_before_start_refused(tmp_path: Path) -> None:
    """A dated entry that ends before it starts is refused."""
    _, load = _load(tmp_path, "v:\n  params:\n"
                              "    q: {value: 1, ref: r, start: 2016-01-01, end: 2015-01-01}\n")
    with pytest.raises(InputError, match="before start"):
        load()


def test_dated_entries_and_extends(tmp_path: Path) -> None:
    """The latest-starting entry in force wins; extends inherits and overrides."""
    _, load = _load(tmp_path, "a:\n  params:\n    q:\n      - {value: 1, assumption: default}\n"
                              "      - {value: 2, ref: r, start: 2015-01-01, end: 2015-12-31}\n"
                              "b:\n  extends: a\n  params:\n    r: {value: 3, ref: r}\n")
    variants = load()
    assert variants["a"].at(dt.date(2014, 6, 1)) == {"q": 1}
    assert variants["a"].at(dt.date(2015, 6, 1)) == {"q": 2}
    assert variants["b"].at(dt.date(2016, 6, 1)) == {"q": 1, "r": 3}


@pytest.mark.parametrize("mechanism", [m for m in MECHANISMS if m != "points"])
def test_shipped_parameters_have_provenance(mechanism: str) -> None:
    """Every shipped value carries a non-empty ref or assumption (a guard against loader regressions)."""
    for variant in variants_of(mechanism).values():
        for name, entries in variant.params.items():
            for entry in entries:
                assert (entry.ref or "").strip() or (entry.assumption or "").strip(), f"{variant.name}.{name}"
