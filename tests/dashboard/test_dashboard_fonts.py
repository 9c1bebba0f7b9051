"""The shipped Chinese web font (dashboard/fonts.py): it holds every CJK character the package can show, the
page's CSS and the charts use the same font stack, and every page preloads it."""

from __future__ import annotations

import re
from typing import Any

from dashboard.fonts import FONT_FAMILY, FONT_FILE, FONT_STACK, subset_characters, text_characters


def test_the_shipped_subset_covers_the_package_text_and_the_common_characters() -> None:
    from fontTools.ttLib import TTFont

    cmap = TTFont(str(FONT_FILE)).getBestCmap()
    missing = sorted(c for c in text_characters() if ord(c) not in cmap)
    assert not missing, f"rebuild the font (python -m dashboard.fonts --source …): missing {''.join(missing[:40])}"
    assert {"户", "口", "圳", "蓉", "积"} <= {chr(c) for c in cmap}
    assert len(subset_characters()) > 3755 and FONT_FILE.stat().st_size < 600_000


def test_the_css_and_the_charts_name_the_same_fonts(app: Any) -> None:
    from dashboard.figures import empty_figure

    css = (FONT_FILE.parent.parent / "hukou.css").read_text("utf-8")
    stacks = re.findall(r"\n  font-family: ([^;]+);", css)
    assert FONT_STACK in stacks and f"font-family: {FONT_FAMILY};" in css
    assert 'url("fonts/hukou-cjk.woff")' in css and "unicode-range: U+3000-303F, U+3400-4DBF, U+4E00-9FFF" in css
    assert empty_figure("x")["layout"]["font"]["family"] == FONT_STACK


def test_every_page_preloads_the_font(app: Any) -> None:
    html = app.server.test_client().get("/?lang=zh").get_data(as_text=True)
    assert '<link rel="preload" href="/assets/fonts/hukou-cjk.woff" as="font" type="font/woff" crossorigin>' in html
    assert app.server.test_client().get("/assets/fonts/hukou-cjk.woff").status_code == 200
