"""The registry of mechanisms: each a folder with pure rules (``rules.py``), dated parameters (``params.yaml``)
and test cases (``cases/``). Listed explicitly (no dynamic discovery) so a reader sees every mechanism here."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from types import ModuleType

from policies.parameters import Variant, load_variants
from policies.points import rules as points
from policies.residence_permit import rules as residence_permit

__all__ = ["MECHANISMS", "variants_of", "ROLES"]

ROLES = ("permit", "points", "channel", "services", "spatial", "control")

MECHANISMS: dict[str, ModuleType] = {
    "points": points,
    "residence_permit": residence_permit,
}


@cache
def variants_of(mechanism: str) -> dict[str, Variant]:
    """The parameter variants of a mechanism, read once from its ``params.yaml``."""
    folder = Path(MECHANISMS[mechanism].__file__).parent
    return load_variants(folder / "params.yaml", mechanism)
