"""The registry of mechanisms: each a folder with pure rules (``rules.py``), dated parameters (``params.yaml``)
and test cases (``cases/``). Listed explicitly (no dynamic discovery) so a reader sees every mechanism here."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from types import ModuleType

from policies.family_channel import rules as family_channel
from policies.open_channel import rules as open_channel
from policies.parameters import Variant, load_variants
from policies.points import rules as points
from policies.points_channel import rules as points_channel
from policies.population_control import rules as population_control
from policies.residence_insurance_channel import rules as residence_insurance_channel
from policies.residence_permit import rules as residence_permit
from policies.services_tiers import rules as services_tiers
from policies.spatial_levers import rules as spatial_levers
from policies.talent_channel import rules as talent_channel
from policies.tax_channel import rules as tax_channel

__all__ = ["MECHANISMS", "variants_of", "ROLES", "CHANNEL_CATEGORIES", "CHANNEL_KINDS"]

ROLES = ("permit", "points", "channel", "services", "spatial", "control")
# A channel's ``CHANNEL``: the column its settlers are counted in (``settled_<category>``, ``settlements_<category>``).
CHANNEL_CATEGORIES = ("talent", "points", "other")
# A channel's ``KIND``: everyone eligible settles (direct), a yearly chance among the eligible (hazard), or a yearly
# round that admits the best ``quota`` of the applicants (quota).
CHANNEL_KINDS = ("direct", "hazard", "quota")

MECHANISMS: dict[str, ModuleType] = {
    "points": points,
    "residence_permit": residence_permit,
    "talent_channel": talent_channel,
    "points_channel": points_channel,
    "residence_insurance_channel": residence_insurance_channel,
    "tax_channel": tax_channel,
    "family_channel": family_channel,
    "open_channel": open_channel,
    "services_tiers": services_tiers,
    "spatial_levers": spatial_levers,
    "population_control": population_control,
}


@cache
def variants_of(mechanism: str) -> dict[str, Variant]:
    """The parameter variants of a mechanism, read once from its ``params.yaml``."""
    rules_file = MECHANISMS[mechanism].__file__
    assert rules_file is not None, mechanism  # every mechanism's rules are a module file (imported above)
    folder = Path(rules_file).parent
    return load_variants(folder / "params.yaml", mechanism)
