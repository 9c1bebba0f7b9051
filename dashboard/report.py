"""The briefing report: one self-contained HTML file of a sweep, in English or Chinese, for a policy office.

It holds what a reader needs without the dashboard: the key findings of each reform against the baseline (the
sentences of ``dashboard.findings``), figures of the headline outcomes over time per city with their bands, the
numbers in tables with their units, what each regime is and what each metric means, the caveats (validation per
city; what the bands include, from the sweep's manifest: parameters and seeds, or seed noise only,
``dashboard.bands``) and the manifest with the commands that reproduce it. plotly.js is written
into the file once, so it opens offline and from an e-mail attachment: nothing is fetched from a network.

``hukou report SWEEP --lang zh --out FILE.html`` writes it; the compare page's "Download briefing" button sends the
same file. Every visible string comes from ``dashboard.i18n``, ``dashboard.glossary`` or the findings, so the
Chinese file has no English heading.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from dashboard.bands import band_badge_text, band_note, noise_words
from dashboard.data import DamagedResults, Experiment, reproduce_command
from dashboard.figures import GRAPH_CONFIG, PALETTE, _base_layout, _rgba
from dashboard.findings import (
    FINDING_METRICS,
    experiment_findings,
    finding_sentence,
    findings_frame,
    scenario_names,
    shipped_census_errors,
    validation_caveat,
)
from dashboard.fonts import FONT_FAMILY, FONT_FILE, FONT_STACK
from dashboard.glossary import scenario_summary
from dashboard.i18n import (
    city_label,
    lang_of,
    metric_caveat,
    metric_definition,
    metric_label,
    metric_number,
    metric_unit,
    t,
)
from policies.cities import CITIES
from policies.errors import InputError
from sim.metrics import SHARE_METRICS

__all__ = ["open_sweep", "baseline_key", "build_report", "write_report", "REPORT_FIGURES"]

# The outcomes drawn over time (one figure each, a panel per city).
REPORT_FIGURES = ("hukou_share", "suburban_dispersion_migrants", "settlements_total")

_STYLE = """
body{font-family:""" + FONT_STACK + """;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.7em;margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0 1em}th,td{border:1px solid #ddd;padding:.25em .5em}
th{background:#f4f4f4;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
li{margin:.25em 0}.muted{color:#666}.yes{font-weight:600}pre{background:#f6f6f6;padding:.6em;overflow-x:auto}
.note{font-size:.9em;color:#555}
.band{font-weight:600;color:#222;border:1px solid #999;border-radius:.3em;padding:0 .35em}
"""


def _font_face() -> str:
    """The dashboard's Chinese font (``dashboard.fonts``) inside the report as a data URI, so the file shows Chinese
    on a machine without a CJK font, offline (about 0.5 MB of the report's 5)."""
    import base64

    data = base64.b64encode(FONT_FILE.read_bytes()).decode("ascii")
    return (f"@font-face{{font-family:{FONT_FAMILY};src:url(data:font/woff;base64,{data}) format('woff');"
            "unicode-range:U+3000-303F,U+3400-4DBF,U+4E00-9FFF,U+FF00-FFEF}")


def open_sweep(folder: Path) -> Experiment:
    """The sweep in ``folder``, checked: a folder with a manifest and readable summaries (``InputError`` naming
    the folder otherwise, which the command line turns into one line and exit code 2)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("no such sweep folder (give the --out folder of hukou sweep or make run)", file=folder)
    inner = sorted(p.name for p in folder.iterdir() if (p / "manifest.json").is_file())
    if inner and not (folder / "manifest.json").is_file():
        raise InputError(f"a folder of sweeps: name one of them ({', '.join(inner[:5])})", file=folder)
    for name in ("manifest.json", "scenarios.parquet", "summary_city_year.parquet"):
        if not (folder / name).is_file():
            raise InputError(f"not a finished sweep folder: {name} is missing (hukou status {folder} says why)",
                             file=folder)
    experiment = Experiment(folder.name, folder)
    try:
        experiment.manifest  # noqa: B018 - read now, so a broken file is named here
        experiment.summary_city()
        experiment.scenarios()
    except DamagedResults as exc:
        raise InputError(str(exc), file=folder) from None
    except (ValueError, OSError) as exc:
        raise InputError(f"cannot read the sweep ({str(exc).splitlines()[0][:200]})", file=folder) from None
    return experiment


def baseline_key(experiment: Experiment) -> str:
    """The scenario every reform is measured against: the historical rules when the sweep has them (alone), else
    the first scenario."""
    frame = experiment.scenarios()
    historical = frame[frame["regimes"] == "historical"]
    return str((historical if len(historical) else frame)["key"].iloc[0])


def _e(text: Any) -> str:
    return html.escape(str(text), quote=False)  # text nodes only: no attribute takes these strings


def _table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return ""
    head = "".join(f"<th>{_e(c)}</th>" for c in frame.columns)
    rows = []
    for row in frame.itertuples(index=False):
        cells = []
        for v in row:
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                cells.append(f'<td class="n">{_number(v)}</td>')
            else:
                cells.append(f"<td>{_e('–' if v is None else v)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _number(value: float) -> str:
    """A table number: whole numbers grouped (130,000), others as rounded by ``metric_number``."""
    if isinstance(value, float) and math.isnan(value):
        return "–"
    return f"{value:,.0f}" if float(value).is_integer() and abs(value) >= 1000 else f"{value:g}"


def _year(year: float) -> str:
    return f"{int(year)}" if year % 1 == 0 else f"{int(year)}-11-01"


def levels_figure(summary: pd.DataFrame, metric: str, names: dict[str, str], lang: str) -> dict[str, Any]:
    """One outcome over time, a panel per city, a line per scenario with its 95% band across seeds (year ends)."""
    from plotly.subplots import make_subplots

    cities = [c for c in CITIES if c in set(summary["city"])]
    fig = make_subplots(rows=1, cols=max(len(cities), 1), shared_yaxes=False,
                        subplot_titles=[city_label(c, lang) for c in cities])
    layout = {**fig.to_plotly_json()["layout"], **_base_layout(lang, metric_label(metric, lang)), "height": 400}
    layout["margin"] = {**layout["margin"], "t": 80}  # the figure's title above the cities' titles
    rows = summary[(summary["metric"] == metric) & (summary["year"] % 1 == 0)]
    scale = 100 if metric in SHARE_METRICS else 1
    data: list[dict[str, Any]] = []
    for s, (key, name) in enumerate(names.items()):
        colour = PALETTE[s % len(PALETTE)]
        for c, city in enumerate(cities):
            d = rows[(rows["key"] == key) & (rows["city"] == city)].sort_values("year")
            if d.empty:
                continue
            axis = "" if c == 0 else str(c + 1)
            x = d["year"].astype(int).tolist()
            lo, hi = (d["ci_low"] * scale).tolist(), (d["ci_high"] * scale).tolist()
            data.append({"type": "scatter", "x": x + x[::-1], "y": hi + lo[::-1], "fill": "toself", "mode": "lines",
                         "fillcolor": _rgba(colour, 0.18), "line": {"width": 0}, "hoverinfo": "skip",
                         "showlegend": False, "legendgroup": key, "xaxis": f"x{axis}", "yaxis": f"y{axis}"})
            data.append({"type": "scatter", "x": x, "y": (d["mean"] * scale).tolist(), "mode": "lines+markers",
                         "name": name[:1].upper() + name[1:], "line": {"color": colour}, "legendgroup": key,
                         "showlegend": c == 0,
                         "xaxis": f"x{axis}", "yaxis": f"y{axis}"})
    unit = metric_unit(metric, lang)
    for c in range(len(cities)):
        layout.setdefault(f"yaxis{'' if c == 0 else c + 1}", {}).update({"title": {"text": unit}} if c == 0 else {})
    return {"data": data, "layout": layout}


def _levels_table(summary: pd.DataFrame, year: float, names: dict[str, str], lang: str) -> pd.DataFrame:
    rows = summary[(summary["year"] == year) & summary["metric"].isin(FINDING_METRICS)
                   & summary["key"].isin(list(names))]
    order = {m: i for i, m in enumerate(FINDING_METRICS)}
    city_order = {c: i for i, c in enumerate(CITIES)}
    key_order = {k: i for i, k in enumerate(names)}
    rows = rows.assign(_m=rows["metric"].map(order), _c=rows["city"].map(city_order), _k=rows["key"].map(key_order))
    out = []
    for r in rows.sort_values(["_c", "_m", "_k"]).itertuples(index=False):
        out.append({t("city", lang): city_label(r.city, lang), t("metric", lang): metric_label(r.metric, lang),
                    t("regime", lang): names[r.key], t("unit", lang): metric_unit(r.metric, lang),
                    t("mean", lang): metric_number(r.metric, r.mean),
                    t("ci_low", lang): metric_number(r.metric, r.ci_low),
                    t("ci_high", lang): metric_number(r.metric, r.ci_high), t("runs", lang): int(r.n)})
    return pd.DataFrame(out)


def _figure_html(figure: dict[str, Any], first: bool, div_id: str) -> str:
    import plotly.io as pio

    # the dashboard's chart settings (no cloud upload), less the keys plotly's offline writer does not know
    config = {k: v for k, v in GRAPH_CONFIG.items() if k not in ("plotlyServerURL", "showEditInChartStudio")}
    return str(pio.to_html(figure, include_plotlyjs=True if first else False, full_html=False, config=config,
                           div_id=div_id, include_mathjax=False, validate=False))


def build_report(experiment: Experiment, lang: str, command: str | None = None) -> str:
    """The briefing of ``experiment`` in ``lang`` as one HTML document (plotly.js inlined once)."""
    lang = lang_of(lang)
    info = experiment.info()
    frame = experiment.scenarios()
    names = scenario_names(experiment, lang)
    base = baseline_key(experiment)
    reforms = [k for k in frame["key"] if k != base]
    ordered = {base: names[base], **{k: names[k] for k in reforms}}
    summary = experiment.summary_city()
    ends = [y for y in experiment.years() if y % 1 == 0]
    year = ends[-1] if ends else math.nan
    cities = [c for c in CITIES if c in set(summary["city"])]
    census = shipped_census_errors()
    band = experiment.band
    noise = noise_words(band, lang)
    parts: list[str] = []

    title = t("briefing_title", lang).format(name=experiment.title)
    parts.append(f"<h1>{_e(title)}</h1>")
    subtitle = t("briefing_subtitle", lang).format(base=names[base], year=_year(year), runs=info.get("runs"),
                                                    created=info.get("created") or "?")
    parts.append(f'<p class="muted">{_e(subtitle)}</p>')

    # key findings, reform by reform
    parts.append(f"<h2>{_e(t('key_findings', lang))}</h2>")
    parts.append(f'<p class="note"><span class="band" id="band">{_e(band_badge_text(band, lang))}</span> '
                 f'{_e(t("findings_note", lang).format(year=_year(year)))} {_e(band_note(band, lang))} '
                 f'{_e(t("briefing_seeds_note", lang).format(noise=noise))}</p>')
    all_found = []
    for reform in reforms:
        found = experiment_findings(experiment, reform, base, year, cities) if ends else []
        all_found.extend(found)
        parts.append(f"<h3>{_e(t('briefing_versus', lang).format(reform=names[reform], base=names[base]))}</h3>")
        if not found:
            parts.append(f"<p>{_e(t('no_data', lang))}</p>")
            continue
        items = "".join(f'<li class="{"yes" if f.distinguishable else "muted"}">'
                        f"{_e(finding_sentence(f, names[reform], names[base], lang, caveat=False))}</li>"
                        for f in found)
        parts.append(f"<ul>{items}</ul>")
    if not reforms:
        parts.append(f"<p>{_e(t('briefing_one_scenario', lang))}</p>")

    # figures
    parts.append(f"<h2>{_e(t('briefing_figures', lang))}</h2>")
    runs = t("runs_parameters" if band.parameters else "runs_seeds", lang)
    parts.append(f'<p class="note">{_e(t("briefing_figures_note", lang).format(runs=runs))}</p>')
    for i, metric in enumerate(REPORT_FIGURES):
        parts.append(_figure_html(levels_figure(summary, metric, ordered, lang), i == 0, f"fig-{metric}"))

    # tables
    parts.append(f"<h2>{_e(t('briefing_tables', lang))}</h2>")
    if all_found:
        parts.append(f"<h3>{_e(t('briefing_effects_table', lang))}</h3>")
        parts.append(_table(findings_frame(all_found, ordered, lang)))
    parts.append(f"<h3>{_e(t('briefing_levels_table', lang).format(year=_year(year)))}</h3>")
    parts.append(_table(_levels_table(summary, year, ordered, lang)))

    # regimes and metrics
    parts.append(f"<h2>{_e(t('regimes_in_view', lang))}</h2><ul>")
    regimes = dict(zip(frame["key"], frame["regimes"], strict=True))
    for key, name in ordered.items():
        line = scenario_summary(regimes.get(key, ""), lang) or str(regimes.get(key, ""))
        parts.append(f"<li><b>{_e(name)}</b>: {_e(line)}</li>")
    parts.append("</ul>")
    parts.append(f"<h2>{_e(t('briefing_metrics', lang))}</h2><ul>")
    defined = []
    for metric in dict.fromkeys((*FINDING_METRICS, *REPORT_FIGURES)):
        label, definition = metric_label(metric, lang), metric_definition(metric, lang)
        defined.append(definition)
        named = definition.startswith(label.split("（")[0].split(" (")[0])  # the definition names it already
        parts.append(f"<li>{_e(definition)}</li>" if named else f"<li><b>{_e(label)}</b>: {_e(definition)}</li>")
    parts.append("</ul>")

    # caveats
    parts.append(f"<h2>{_e(t('briefing_caveats', lang))}</h2><ul>")
    parts.append(f"<li>{_e(band_note(band, lang))}</li>")
    for city in cities:
        parts.append(f"<li>{_e(validation_caveat(city, census.get(city), lang))}</li>")
    for note in dict.fromkeys(n for m in (*FINDING_METRICS, *REPORT_FIGURES)
                              if (n := metric_caveat(m, lang)) and n not in defined):
        parts.append(f"<li>{_e(note)}</li>")
    parts.append("</ul>")

    # manifest
    seeds = info["seeds"]
    rows = [(t("experiment", lang), f"{info['name']} ({info['id']})"), (t("code_version", lang), info["code_version"]),
            (t("spec_hash", lang), info["spec_hash"]), (t("created", lang), info.get("created") or "?"),
            (t("root_seed", lang), str(info["root_seed"])), (t("seeds", lang), ", ".join(str(s) for s in seeds)),
            (t("scale", lang), f"{info['scale']:g}" if info["scale"] else "?"), (t("year", lang), info["years"]),
            (t("runs", lang), str(info["runs"])), (t("band_includes", lang), t(band.label, lang))]
    parts.append(f"<h2>{_e(t('manifest', lang))}</h2><table>"
                 + "".join(f"<tr><th>{_e(k)}</th><td><code>{_e(v)}</code></td></tr>" for k, v in rows) + "</table>")
    commands = [reproduce_command(experiment),
                command or f"hukou report {experiment.folder} --lang {lang} --out briefing_{lang}.html"]
    parts.append(f"<p><b>{_e(t('reproduce', lang))}</b></p><pre>{_e(chr(10).join(commands))}</pre>")
    from dashboard.reproduce import model_snippet

    python = model_snippet(experiment, list(frame["key"]), {str(k): str(v) for k, v in
                                                            zip(frame["key"], frame["label"], strict=True)})
    parts.append(f"<details><summary>{_e(t('reproduce_python', lang))}</summary><pre>{_e(python)}</pre></details>")
    spec = json.dumps(experiment.manifest.get("spec", {}), ensure_ascii=False, indent=1)
    parts.append(f"<details><summary>{_e(t('briefing_spec', lang))}</summary><pre>{_e(spec)}</pre></details>")

    head = (f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{_e(title)}</title>'
            f"<style>{_font_face()}{_STYLE}</style></head><body>")
    return head + "\n".join(parts) + "</body></html>"


def write_report(folder: Path, lang: str, out: Path) -> Path:
    """``hukou report``: the briefing of the sweep in ``folder`` written to ``out`` (its folder made)."""
    if lang not in ("en", "zh"):
        raise InputError(f"unknown language {lang!r} (en or zh)", field="--lang")
    experiment = open_sweep(folder)
    text = build_report(experiment, lang, command=f"hukou report {folder} --lang {lang} --out {out}")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text, "utf-8")
    tmp.replace(out)
    return out
