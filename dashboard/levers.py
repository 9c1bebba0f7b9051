"""The scenario builder's levers: from a regime and a few numbers to a counterfactual regime file and a short sweep.

Why a counterfactual file and not run-config overrides: a counterfactual *derives* from its baseline
(docs/contracts.md §3) and the sweep can then hold both the regime as written and the changed one as two scenarios
with the same seeds, so the comparison is like for like. Each lever rewrites the dated entries of the parameters the
regime's variants use, keeping their dates, and records why in ``assumption:`` (the loader refuses a value without
one).

Levers act on one city (``Levers.city``): the counterfactual covers every city of its starting regime, so the other
cities keep that regime's rules, and its overrides change only variants the chosen city uses (a variant another city
also uses is refused, since the lever would reach that city too).

Scenarios are kept: the regime files in ``<folder>/_regimes`` and each sweep in ``<folder>/<id>``, a folder the
dashboard lists (``hukou dashboard`` puts it beside the results, ``dashboard.app.scenarios_folder``).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from policies.regime import Regime

__all__ = ["Levers", "covered", "variants_used", "indicator_choices", "build_overrides", "write_scenario",
           "POINT_KEYS", "LIMITS", "ROOT_SEED", "cities_of", "scenario_id", "read_levers"]

# Keys whose numbers are points (scaled by an indicator weight); thresholds, months and ages are not.
POINT_KEYS = {"points", "per_unit", "per_year", "pension_per_year", "other_per_type_per_year", "cap", "cap_total",
              "cap_per_year"}
_NOT_WEIGHTS = {"threshold", "district_bonus", "social_service_window_years"}
AGE_KEYS = ("age_below", "age_at_most")
LIMITS = {"quota_factor": (0.0, 10.0), "min_score_shift": (-200.0, 200.0), "indicator_factor": (0.0, 5.0),
          "district_bonus_factor": (0.0, 5.0), "talent_age_shift": (-15.0, 15.0), "end": (2011, 2035),
          "replications": (1, 30), "scale": (100.0, 200000.0)}  # seeds and scale as dashboard.power proposes
# The root seed of a scenario with no main sweep to share seeds with (write_scenario takes the sweep's otherwise).
ROOT_SEED = 2010


@dataclass(frozen=True)
class Levers:
    """The builder's choices; ``check()`` refuses values outside ``LIMITS`` with the field's name."""

    base: str = "historical"
    quota_factor: float = 1.0
    min_score_shift: float = 0.0
    indicator: str | None = None
    indicator_factor: float = 1.0
    district_bonus_factor: float = 1.0
    talent_age_shift: int = 0
    name: str = "my scenario"
    end: int = 2025
    replications: int = 2
    scale: float = 20000.0
    city: str | None = None  # the city the levers act on (None: the starting regime's only city)

    def check(self) -> Levers:
        """Validate every field (``ValueError`` naming it); the result names its city."""
        from dataclasses import replace

        from policies.catalogue import available

        if not isinstance(self.base, str) or self.base not in available():
            raise ValueError(f"base regime: unknown {str(self.base)[:40]!r}")
        for name, (low, high) in LIMITS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
                raise ValueError(f"{name}: must be a number from {low:g} to {high:g}")
        if not isinstance(self.name, str) or not 0 < len(self.name.strip()) <= 80:
            raise ValueError("name: 1 to 80 characters")
        if self.indicator is not None and self.indicator not in indicator_choices(self.base):
            raise ValueError(f"indicator: {str(self.indicator)[:40]!r} is not a points indicator of {self.base}")
        cities = cities_of(self.base)
        if self.city is None and len(cities) == 1:
            return replace(self, city=cities[0]).check()
        if self.city not in cities:
            raise ValueError(f"city: the levers act on one city of {self.base}: {' | '.join(cities)}")
        if self.indicator is not None and self.indicator not in indicator_choices(self.base, self.city):
            raise ValueError(f"indicator: {self.indicator!r} is not a points indicator of {self.base} in {self.city}")
        return self

    def changed(self) -> bool:
        """Whether any lever differs from the regime as written."""
        return (self.quota_factor != 1 or self.min_score_shift != 0 or self.district_bonus_factor != 1
                or self.talent_age_shift != 0 or (self.indicator is not None and self.indicator_factor != 1))


def covered(base: str) -> dict[str, Regime]:
    """The cities a regime name stands for (``historical``: all three; ``guangzhou``: Guangzhou only)."""
    from policies.catalogue import resolve

    regimes = resolve([base])
    named = {city: r for city, r in regimes.items() if r.name == base}
    return named or regimes


def cities_of(base: str) -> list[str]:
    """The cities a lever on ``base`` can act on, in the usual order."""
    from policies.cities import CITIES

    names = covered(base)
    return [c for c in CITIES if c in names]


def variants_used(base: str, city: str | None = None) -> dict[str, set[str]]:
    """Mechanism → the variants the regime ``base`` uses at any date, in ``city`` (None: every city it covers).
    Only the mechanisms' own variants: a run's overrides cannot name a counterfactual's ``variants:``."""
    from policies.mechanisms import variants_of

    used: dict[str, set[str]] = {}
    for name, regime in covered(base).items():
        if city is not None and name != city:
            continue
        for version in regime.versions:
            for mechanism, variant in version.mechanisms.items():
                if variant and variant in variants_of(mechanism):
                    used.setdefault(mechanism, set()).add(str(variant))
    return used


def _has_points(value: Any) -> bool:
    if isinstance(value, dict):
        return any(k in POINT_KEYS or _has_points(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_points(v) for v in value)
    return False


def indicator_choices(base: str, city: str | None = None) -> list[str]:
    """The points indicators whose weight the builder can change for this regime set, in ``city`` (None: in any of
    its cities), sorted."""
    from policies.mechanisms import variants_of

    names: set[str] = set()
    for variant in variants_used(base, city).get("points", ()):
        for param, entries in variants_of("points")[variant].params.items():
            if param not in _NOT_WEIGHTS and any(_has_points(e.value) for e in entries):
                names.add(param)
    return sorted(names)


def _scale_points(value: Any, factor: float) -> Any:
    if isinstance(value, dict):
        return {k: (_round(v * factor) if k in POINT_KEYS and isinstance(v, (int, float)) and not isinstance(v, bool)
                    else _scale_points(v, factor)) for k, v in value.items()}
    if isinstance(value, list):
        return [_scale_points(v, factor) for v in value]
    return value


def _round(x: float) -> float | int:
    return int(round(x)) if float(x).is_integer() or abs(x) >= 10 else round(float(x), 2)


def _shift_ages(value: Any, years: int) -> Any:
    if isinstance(value, dict):
        return {k: (v + years if k in AGE_KEYS and isinstance(v, int) else _shift_ages(v, years))
                for k, v in value.items()}
    return value


def _entries(mechanism: str, variant: str, param: str, transform: Any, why: str) -> list[dict[str, Any]]:
    from policies.mechanisms import variants_of
    from policies.parameters import FAR_FUTURE, FAR_PAST

    out = []
    for entry in variants_of(mechanism)[variant].params[param]:
        item: dict[str, Any] = {"value": None if entry.value is None else transform(copy.deepcopy(entry.value)),
                                "assumption": f"dashboard scenario: {why} (was {entry.provenance})"[:400]}
        if entry.start != FAR_PAST:
            item["start"] = entry.start.isoformat()
        if entry.end != FAR_FUTURE:
            item["end"] = entry.end.isoformat()
        out.append(item)
    return out


def build_overrides(levers: Levers) -> dict[str, list[dict[str, Any]]]:
    """The dated overrides (``mechanism.variant.param`` → entries) that the levers mean for the regime set."""
    from policies.mechanisms import variants_of

    used = variants_used(levers.base, levers.city)
    out: dict[str, list[dict[str, Any]]] = {}
    for variant in sorted(used.get("points_channel", ())):
        params = variants_of("points_channel")[variant].params
        if levers.quota_factor != 1 and "quota" in params:
            out[f"points_channel.{variant}.quota"] = _entries(
                "points_channel", variant, "quota", lambda v: int(round(v * levers.quota_factor)),
                f"quota x{levers.quota_factor:g}")
        if levers.min_score_shift and "min_score" in params:
            out[f"points_channel.{variant}.min_score"] = _entries(
                "points_channel", variant, "min_score", lambda v: max(0, _round(v + levers.min_score_shift)),
                f"minimum score {levers.min_score_shift:+g}")
    for variant in sorted(used.get("points", ())):
        params = variants_of("points")[variant].params
        if levers.indicator and levers.indicator_factor != 1 and levers.indicator in params:
            out[f"points.{variant}.{levers.indicator}"] = _entries(
                "points", variant, levers.indicator, lambda v: _scale_points(v, levers.indicator_factor),
                f"{levers.indicator} weight x{levers.indicator_factor:g}")
        if levers.district_bonus_factor != 1 and "district_bonus" in params:
            out[f"points.{variant}.district_bonus"] = _entries(
                "points", variant, "district_bonus",
                lambda v: {**v, "by_adcode": {k: _round(b * levers.district_bonus_factor)
                                              for k, b in v.get("by_adcode", {}).items()}},
                f"district bonus x{levers.district_bonus_factor:g}")
    if levers.talent_age_shift:
        for variant in sorted(used.get("talent_channel", ())):
            for param in variants_of("talent_channel")[variant].params:
                if param.startswith("route_"):
                    out[f"talent_channel.{variant}.{param}"] = _entries(
                        "talent_channel", variant, param, lambda v: _shift_ages(v, int(levers.talent_age_shift)),
                        f"talent age limits {int(levers.talent_age_shift):+d} years")
    return out


def scenario_id(levers: Levers, root_seed: int = ROOT_SEED) -> str:
    """A stable identifier: a slug of the name and a hash of every lever and of the seeding (same levers and seeds
    → same sweep, reused; the seeding is in it because a sweep folder refuses a changed spec)."""
    slug = re.sub(r"[^a-z0-9]+", "-", levers.name.lower()).strip("-")[:30]
    seeding = {"root_seed": int(root_seed), "paired_seeds": True}
    digest = hashlib.sha256(json.dumps({**asdict(levers), **seeding}, sort_keys=True).encode()).hexdigest()[:10]
    return f"scenario-{slug}-{digest}" if slug else f"scenario-{digest}"  # a name in Chinese: the page shows it


def write_scenario(levers: Levers, folder: Path, root_seed: int = ROOT_SEED) -> tuple[str, Path, dict[str, Any]]:
    """Write the counterfactual regime file and return (sweep id, its folder, the spec document).

    The scenario runs on its baseline's seeds (``paired_seeds``), so each effect is paired seed by seed; with the
    main sweep's ``root_seed`` those are the main sweep's baseline seeds (``dashboard.power.baseline_match``).

    The regime file goes to ``folder/_regimes`` (a name the registry never lists); the sweep folder is
    ``folder/<id>`` and is created by ``experiments.run_sweep``.
    """
    from policies.yamlio import dump_yaml

    levers = levers.check()
    if not levers.changed():
        raise ValueError("no lever changed: the scenario would equal its starting regime")
    overrides = build_overrides(levers)
    shared = sorted({city for key in overrides for city, used in _uses(levers.base).items()
                     if city != levers.city and key.split(".")[1] in used.get(key.split(".")[0], set())})
    if shared:
        raise ValueError(f"city: these rules of {levers.base} are also {', '.join(shared)}'s: the levers would "
                         f"change them there too")
    ident = scenario_id(levers, root_seed)
    regimes_dir = folder / "_regimes"
    regimes_dir.mkdir(parents=True, exist_ok=True)
    regime_file = regimes_dir / f"{ident.replace('-', '_')}.yaml"
    doc = {"name": ident.replace("-", "_"), "title": levers.name,
           "description": f"Dashboard scenario derived from {levers.base}: {json.dumps(asdict(levers))}",
           "derive_from": levers.base, "cities": cities_of(levers.base), "overrides": overrides}
    regime_file.write_text(dump_yaml(doc), "utf-8")
    (regimes_dir / f"{ident}.levers.json").write_text(json.dumps(asdict(levers), ensure_ascii=False), "utf-8")
    spec = {"name": ident.replace("-", "_"), "description": levers.name,
            "levers": {"regimes": [levers.base, str(regime_file)]},
            "outcomes": ["hukou_share", "suburban_dispersion_migrants", "talent_share_settlers", "settlements_total"],
            "replications": int(levers.replications), "scale": float(levers.scale), "start": 2010,
            "end": int(levers.end), "root_seed": int(root_seed),
            "paired_seeds": True}
    return ident, folder / ident, spec


def _uses(base: str) -> dict[str, dict[str, set[str]]]:
    """City → mechanism → the variants the city's regime of ``base`` uses."""
    return {city: variants_used(base, city) for city in cities_of(base)}


def read_levers(folder: Path, ident: str) -> dict[str, Any]:
    """The levers a builder scenario was made with (``write_scenario`` keeps them beside its regime file), or an
    empty mapping when they are not there (a scenario made before they were kept)."""
    path = folder / "_regimes" / f"{ident}.levers.json"
    if not re.fullmatch(r"scenario-[a-z0-9-]+", ident) or not path.is_file():
        return {}
    try:
        doc = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}
