"""What a sweep's bands include, said in the reader's language: parameter uncertainty and seed noise, or seed noise
only.

Why a module: the compare page, the overview's findings, the finding sentences and the briefing report all state
what their bands include, and that must be what the sweep did, not what sweeps usually do. The answer is the
sweep manifest's (``experiments.store.band_of``, written by ``experiments.sweep``): "parameters and seeds" when its
runs carry more than one parameter set drawn from a posterior, else "seed noise only" (no draws, or a posterior
with one parameter set, such as the installed point estimate). With parameter draws every scenario runs the same
draws and seeds, so a reform's effect is paired run by run; the text says that too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dashboard.i18n import lang_of, t

__all__ = ["Band", "PARAMETERS", "SEEDS_ONLY", "sweep_band", "band_badge_text", "band_note", "noise_words"]

PARAMETERS = "parameters and seeds"  # experiments.sweep.band_label's two values
SEEDS_ONLY = "seed noise only"


@dataclass(frozen=True)
class Band:
    """What the bands of one sweep include, from its manifest."""

    label: str  # PARAMETERS or SEEDS_ONLY
    paired: bool  # scenarios share parameter draws and seeds (or seeds) run by run
    draws: int = 0  # parameter sets drawn for every scenario (0: the sweep draws none)
    distinct: int = 0  # distinct parameter sets among them
    method: str | None = None  # the posterior's method ("ABC-SMC", "point estimate", ...)
    seeds: int = 1  # seeds per parameter set (the spec's replications)

    @property
    def parameters(self) -> bool:
        """Whether the bands include parameter uncertainty."""
        return self.label == PARAMETERS


def sweep_band(folder: Path, manifest: dict[str, Any] | None = None) -> Band:
    """The ``Band`` of the sweep in ``folder``: label and pairing from ``experiments.store.band_of``, the numbers
    of its draws from the manifest (``manifest``: the already read manifest, when the caller has it)."""
    import json

    from experiments.store import band_of

    label, paired = band_of(folder)
    if manifest is None:
        path = folder / "manifest.json"
        manifest = json.loads(path.read_text("utf-8")) if path.is_file() else {}
    draws = manifest.get("parameter_draws") or {}
    seeds = int((manifest.get("spec") or {}).get("replications") or 1)
    return Band(PARAMETERS if label == PARAMETERS else SEEDS_ONLY, bool(paired), int(draws.get("draws") or 0),
                int(draws.get("distinct") or 0), draws.get("method"), seeds)


def noise_words(band: Band | None, lang: str) -> str:
    """What an effect is told apart from: "seed noise", or "parameter and seed uncertainty"."""
    return t("noise_parameters" if band is not None and band.parameters else "noise_seeds", lang)


def band_badge_text(band: Band | None, lang: str) -> str:
    """The visible label: "Band includes: parameters and seeds" / "Band includes: seed noise only"."""
    label = band.label if band is not None else SEEDS_ONLY
    return f"{t('band_includes', lang)}{'：' if lang_of(lang) == 'zh' else ': '}{t(label, lang)}"


def band_note(band: Band | None, lang: str) -> str:
    """One or two sentences on what the bands include and whether effects are paired, for the findings and the
    briefing's caveats."""
    if band is None or band.draws == 0:
        text = t("band_note_no_draws", lang)
        if band is not None and band.paired:
            text += ("" if lang_of(lang) == "zh" else " ") + t("band_note_paired_seeds", lang)
        return text
    # the point estimate's method is a fixed phrase (experiments.posterior): said in the reader's language
    method = t("method_point_estimate", lang) if band.method == "point estimate" else (band.method or "?")
    key = "band_note_parameters" if band.parameters else "band_note_point"
    return t(key, lang).format(draws=band.draws, distinct=band.distinct, method=method, seeds=band.seeds)
