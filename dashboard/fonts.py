"""The dashboard's Chinese web font: a subset of WenQuanYi Micro Hei shipped in ``assets/fonts``, so that Chinese is
never drawn as empty boxes, whatever fonts the viewer's machine has.

Why ship one: the first-use review found every Chinese string drawn as boxes on a machine without a CJK font
(Debian and many Linux desktops have none by default), the ``中文`` button included. The page's font stack
(``assets/hukou.css``, ``FONT_STACK``) names the usual system CJK fonts first (Noto Sans SC / Noto Sans CJK SC,
Source Han Sans SC, PingFang SC, Microsoft YaHei, WenQuanYi Micro Hei), which look better and need no download,
and this subset last, for the CJK ranges only (``unicode-range``), so a browser fetches it only where no system
font has the glyph.

What the subset holds (``subset_characters``): every CJK character in the package's own text (labels, regime
titles, district names, policy citations) plus the 3,755 characters of GB 2312 level 1, the common characters,
so that a scenario name a user types almost always has glyphs too; 3,778 glyphs, 370 kB as WOFF. A rarer character
falls back to the system's fonts. A test checks that the shipped file covers the package's text: after adding
Chinese text, rebuild it with::

    apt-get download fonts-wqy-microhei && dpkg-deb -x fonts-wqy-microhei_*.deb wqy
    python -m dashboard.fonts --source wqy/usr/share/fonts/truetype/wqy/wqy-microhei.ttc

Licence: WenQuanYi Micro Hei is Apache-2.0 (or GPL-3+ with the font exception); ``assets/fonts/LICENSE-wqy.txt``.
Plotly's PNG download draws the chart in an off-screen image, which does not see web fonts: a PNG of a Chinese
chart needs a system CJK font (docs/dashboard.md, *Limits*).
"""

from __future__ import annotations

import argparse
import io
import re
from pathlib import Path

__all__ = ["FONT_FAMILY", "FONT_STACK", "FONT_FILE", "subset_characters", "text_characters", "build", "main"]

FONT_FAMILY = "hukou-cjk"
# The stack of the page and of every chart: Latin first (the system UI font), then system CJK fonts, then the
# shipped subset. Keep in step with assets/hukou.css (a test compares them).
FONT_STACK = ('system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans SC", '
              '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", '
              f'"WenQuanYi Micro Hei", {FONT_FAMILY}, sans-serif')
_PACKAGE = Path(__file__).resolve().parent
FONT_FILE = _PACKAGE / "assets" / "fonts" / "hukou-cjk.woff"
# CJK punctuation, ideographs (extension A and unified), full-width forms: what the subset is used for.
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
_TEXT_SUFFIXES = {".py", ".yaml", ".yml", ".csv"}


def text_characters(roots: tuple[Path, ...] | None = None) -> set[str]:
    """The CJK characters of the package's own text (dashboard, policies, sim data): what the pages can show."""
    top = _PACKAGE.parent
    roots = roots or (top / "dashboard", top / "policies", top / "sim" / "data")
    found: set[str] = set()
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and path.suffix in _TEXT_SUFFIXES:
                found |= set(_CJK.findall(path.read_text("utf-8", errors="ignore")))
    return found


def _gb2312_level1() -> set[str]:
    """The 3,755 common characters of GB 2312 (level 1: rows 16–55)."""
    out = set()
    for high in range(0xB0, 0xD8):
        for low in range(0xA1, 0xFF):
            try:
                out.add(bytes([high, low]).decode("gb2312"))
            except UnicodeDecodeError:  # the last row ends early
                continue
    return out


def subset_characters() -> set[str]:
    """What the shipped font holds: the package's CJK characters and GB 2312 level 1."""
    return text_characters() | _gb2312_level1()


def build(source: Path, out: Path = FONT_FILE) -> int:
    """Write the WOFF subset of ``source`` (a TTF, or the first font of a TTC) for ``subset_characters``; returns
    its size in bytes."""
    from fontTools import subset
    from fontTools.ttLib import TTCollection, TTFont

    if source.suffix.lower() == ".ttc":
        buffer = io.BytesIO()
        TTCollection(str(source)).fonts[0].save(buffer)
        buffer.seek(0)
        font = TTFont(buffer)
    else:
        font = TTFont(str(source))
    options = subset.Options()
    options.flavor = "woff"
    options.layout_features = []
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(subset_characters())))
    subsetter.subset(font)
    out.parent.mkdir(parents=True, exist_ok=True)
    font.flavor = "woff"
    font.save(str(out))
    return out.stat().st_size


def main(argv: list[str] | None = None) -> int:
    """``python -m dashboard.fonts --source FONT``: rebuild the shipped subset."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--source", type=Path, required=True, help="wqy-microhei.ttc (Debian fonts-wqy-microhei)")
    parser.add_argument("--out", type=Path, default=FONT_FILE)
    args = parser.parse_args(argv)
    size = build(args.source, args.out)
    print(f"{args.out}: {len(subset_characters())} characters, {size:,} bytes")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
