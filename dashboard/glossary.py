"""What a regime is, in one line and in the reader's language, wherever its name appears (overview, compare, the
briefing report).

One source per fact: a regime's line is the ``title`` of its YAML file (``title_zh`` in Chinese, written beside it
in the same file); ``historical``, which has no file of its own (it stands for the three city timelines), is
described by the label ``regime_historical``. A scenario that combines names ("talent_only+strict_control") gets
each name's line; a name the catalogue does not know (a scenario builder's file) gets none.
"""

from __future__ import annotations

from functools import cache

from dashboard.i18n import LANGS, lang_of, t
from policies.errors import InputError

__all__ = ["regime_summary", "scenario_summary", "regime_names", "regime_name", "scenario_name"]


@cache
def _titles(name: str) -> tuple[str, str] | None:
    """(English, Chinese) title of a shipped regime, None for a name the catalogue does not know."""
    from policies.catalogue import available

    regimes = available().get(name)
    if not regimes:
        return None
    own = [r for r in regimes.values() if r.name == name] or list(regimes.values())
    regime = own[0]
    return regime.title, regime.title_zh or regime.title


def regime_names(regimes: str) -> list[str]:
    """The regime names of a scenario's ``regimes`` text ("historical", "a+b"); file paths are left out."""
    return [n for n in str(regimes).split("+") if n and not n.endswith((".yaml", ".yml"))]


def regime_summary(name: str, lang: str) -> str:
    """One line on what the regime ``name`` is, in ``lang`` (empty for an unknown name)."""
    if name == "historical":
        return t("regime_historical", lang)
    try:
        titles = _titles(name)
    except InputError:  # a broken regime file is reported where it is run, not on a page that only names it
        return ""
    return titles[LANGS.index(lang_of(lang))] if titles else ""


def scenario_summary(regimes: str, lang: str) -> str:
    """The lines of every regime a scenario names, joined (``regimes`` as the sweep's scenarios table has it)."""
    return " ".join(s for s in (regime_summary(n, lang) for n in regime_names(regimes)) if s)


def regime_name(name: str, lang: str) -> str:
    """A regime's short name for a sentence or heading, in ``lang``: its title up to the dash ("Talent only",
    "仅限人才"); ``historical`` by its label; the name itself when the catalogue does not know it."""
    if name == "historical":
        return t("regime_historical_name", lang)
    summary = regime_summary(name, lang)
    head = summary.split("——")[0].split(" — ")[0].strip()
    return head if summary and head else name


def scenario_name(regimes: str, fallback: str, lang: str) -> str:
    """A scenario's short name from the regimes it names ("Talent only + Strict control"), ``fallback`` (its
    label) when a regime is not the catalogue's (a scenario builder's file)."""
    names = str(regimes).split("+")
    if not names or any(n not in ("historical",) and not regime_summary(n, lang) for n in names):
        return fallback
    return " + ".join(regime_name(n, lang) for n in names)
