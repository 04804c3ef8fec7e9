"""Plotly figure builders shared by the pages and the PDF: pyramid, radar, item bars, pyramids, trend.

Units side by side are a table (it pages in the PDF however many units there are), not a chart.
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import plotly
import plotly.graph_objects as go
from babel import Locale
from flask_babel import gettext as _

from . import i18n
from .questionnaire import Instrument

BRAND = "#2b4c7e"
ACCENT = "#e07a2f"
GREY = "#9aa3b3"
# Answer colours from "strongly disagree" to "strongly agree": diverging, readable in grey print.
SCALE_COLOURS = ["#b2182b", "#ef8a62", "#d9d9d9", "#67a9cf", "#2166ac"]
# A healthy organisation is shaped like a pyramid: a broad base, fewer people on each level up.
# Reference shares of people whose highest level is each level (observing .. leading), sum 1.
HEALTHY_SHAPE = (0.26, 0.22, 0.18, 0.15, 0.11, 0.08)
FONT = {"family": "DejaVu Sans, Arial, sans-serif", "size": 13, "color": "#1d2433"}


def organisation_label(lang: str) -> str:
    """Return the name of the whole organisation in a chart's legend."""
    with i18n.language(lang):
        return _("Whole organisation")


def level_label(instrument: Instrument, level_id: str, lang: str) -> str:
    """Return the name of a pyramid step: a level, or the place below the pyramid ("none")."""
    if level_id in (None, "none"):
        if instrument.below_pyramid is not None:
            return instrument.below_pyramid.name[lang]
        with i18n.language(lang):
            return _("Below the pyramid")
    level = instrument.level(level_id)
    return level.name[lang] if level else level_id


def separators(lang: str) -> str:
    """Return plotly's layout.separators (decimal mark, then thousands separator) in the reader's convention."""
    symbols = Locale.parse(i18n.LOCALES[lang]).number_symbols["latn"]
    return symbols["decimal"] + symbols["group"]


_RULE = re.compile(r""""((?:[^"\\]|\\.)*)":('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")""")


def plotly_css(bundle: str) -> str:
    """Extract the CSS rules plotly.js would inject as an inline <style>, as a static stylesheet.

    A strict Content-Security-Policy (no 'unsafe-inline' styles) blocks that injection; plotly.js
    skips it when an element with id "plotly.js-style-global" and class "no-inline-styles" exists,
    which the pages provide as a <link> to this file.
    """
    start = bundle.index('{"X,X div":')
    end = bundle.index("};", start)
    rules = []
    for key, value in _RULE.findall(bundle[start:end]):
        selector = re.sub(r"^,", " ,", key).replace("X", ".js-plotly-plot .plotly").replace("Y", ".plotly-notifier")
        rules.append(f"{selector} {{{value[1:-1]}}}")
    if len(rules) < 20:
        raise RuntimeError("plotly.js's style rules were not found; update charts.plotly_css for this version")
    return "\n".join(rules) + "\n"


_GUARD = re.compile(r'if\(!document\.getElementById\("([0-9a-f]{16,})"\)\)\{var \w+=document\.createElement\("style"\)')


def plotly_style_guards(bundle: str) -> list[str]:
    """Return the ids that stop plotly.js's bundled libraries from injecting inline <style> elements.

    Those styles (for map traces, which this app never draws) are skipped when an element with
    the id already exists, so the pages carry an empty <meta> with each id instead of a CSP error.
    """
    return _GUARD.findall(bundle)


def ensure_plotly_bundle(static_folder: str) -> Path:
    """Copy plotly.js (and its CSS) from the installed plotly package into static/vendor: no CDN."""
    source = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    target = Path(static_folder) / "vendor" / "plotly.min.js"
    css = target.with_name("plotly.css")
    if not target.exists() or target.stat().st_size != source.stat().st_size or not css.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        css.write_text(plotly_css(source.read_text(encoding="utf-8")), encoding="utf-8")
    return target


def _layout(fig: go.Figure, height: int, lang: str, **kwargs) -> go.Figure:
    fig.update_layout(
        height=height,
        separators=separators(lang),
        margin=kwargs.pop("margin", {"l": 10, "r": 10, "t": 30, "b": 10}),
        font=FONT,
        template="none",
        paper_bgcolor="white",
        plot_bgcolor="white",
        showlegend=kwargs.pop("showlegend", True),
        legend=kwargs.pop("legend", {"orientation": "h", "yanchor": "bottom", "y": -0.15, "x": 0}),
        **kwargs,
    )
    return fig


def _pyramid_shares(pyramid: list[dict], instrument: Instrument, lang: str) -> tuple[list[str], list[float]]:
    """Return the row names and shares of a pyramid: below the pyramid first, then the levels upwards."""
    share = {p["level"]: p["share"] for p in pyramid}
    names = [level_label(instrument, "none", lang)] + [lv.name[lang] for lv in instrument.levels]
    return names, [share.get("none", 0.0)] + [share.get(lv.id, 0.0) for lv in instrument.levels]


def _pyramid_bar(shares: list[float], instrument: Instrument, lang: str) -> dict:
    """Return the bar settings that centre each share, so that the bars stack into a pyramid."""
    return {
        "x": shares,
        "base": [-s / 2 for s in shares],
        "orientation": "h",
        "marker": {"color": [GREY] + [BRAND] * len(instrument.levels)},
        "text": [i18n.percent(s, lang=lang) for s in shares],
    }


def pyramid_figure(pyramid: list[dict], instrument: Instrument, lang: str) -> go.Figure:
    """Draw the organisation as a pyramid: centred bars, the base at the bottom, those below it under it."""
    names, shares = _pyramid_shares(pyramid, instrument, lang)
    with i18n.language(lang):
        labels = {"share": _("Share of respondents"), "healthy": _("Healthy shape (reference)")}
    fig = go.Figure()
    fig.add_bar(
        y=list(range(len(names))),
        **_pyramid_bar(shares, instrument, lang),
        textposition="outside",
        cliponaxis=False,
        hovertext=names,
        hovertemplate="%{hovertext}: %{text}<extra></extra>",
        name=labels["share"],
    )
    # The reference outline: a stepped pyramid around the healthy shares of levels 1..6.
    xs, ys = [], []
    for i, h in enumerate(HEALTHY_SHAPE, start=1):
        xs += [-h / 2, -h / 2]
        ys += [i - 0.5, i + 0.5]
    for i, h in reversed(list(enumerate(HEALTHY_SHAPE, start=1))):
        xs += [h / 2, h / 2]
        ys += [i + 0.5, i - 0.5]
    fig.add_scatter(
        x=[*xs, xs[0]],
        y=[*ys, ys[0]],
        mode="lines",
        line={"color": ACCENT, "dash": "dot", "width": 2},
        name=labels["healthy"],
        hoverinfo="skip",
    )
    widest = max([*shares, *HEALTHY_SHAPE]) / 2 + 0.08
    fig.update_layout(
        yaxis={
            "tickvals": list(range(len(names))),
            "ticktext": names,
            "range": [-0.6, len(names) - 0.4],
            "automargin": True,
        },
        xaxis={"range": [-widest, widest], "visible": False},
        bargap=0.12,
    )
    return _layout(fig, 400, lang)


def radar_figure(series: list[tuple[str, list[dict]]], instrument: Instrument, lang: str) -> go.Figure:
    """Draw the six levels' scores (0-100) as a radar, one closed line per (name, dimensions) series."""
    names = [lv.name[lang] for lv in instrument.levels]
    fig = go.Figure()
    colours = [BRAND, ACCENT, "#1e7a46", "#7b3294", "#5a6478"]
    for n, (raw_label, dims) in enumerate(series):
        # Department names are user text: plotly reads a few HTML tags in labels, so escape them.
        label = html.escape(raw_label)
        score = {d["id"]: d.get("score") for d in dims}
        values = [score.get(lv.id) for lv in instrument.levels]
        fig.add_scatterpolar(
            r=[*values, values[0]],
            theta=[*names, names[0]],
            name=label,
            line={"color": colours[n % len(colours)], "width": 3 if n == 0 else 2},
            fill="toself" if n == 0 else "none",
            fillcolor="rgba(43,76,126,0.12)",
            connectgaps=False,
            hovertemplate="%{theta}: %{r:.0f}<extra>" + label + "</extra>",
        )
    fig.update_layout(
        polar={
            "radialaxis": {"range": [0, 100], "tickvals": [25, 50, 70, 100], "angle": 90, "tickangle": 90},
            # Observing at the top, the levels following clockwise, as in the tables.
            "angularaxis": {"rotation": 90, "direction": "clockwise"},
        }
    )
    legend = {"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0.5, "xanchor": "center"}
    return _layout(fig, 460, lang, margin={"l": 70, "r": 70, "t": 40, "b": 70}, legend=legend)


def item_bars_figure(items: list[dict], instrument: Instrument, lang: str) -> go.Figure:
    """Draw each shown item's answer distribution as a 100 % stacked horizontal bar."""
    shown = [it for it in items if not it.get("suppressed") and it.get("n")]
    text = {it.id: it.text[lang] for it in instrument.items}
    labels = [_wrap(text[it["id"]], 60) for it in shown]
    # Percentages as numbers 0-100 with the locale's own suffix ("75 %" in Norwegian, "75%" in
    # English): plotly's ".0%" format always writes "75%".
    suffix = i18n.percent_suffix(lang)
    fig = go.Figure()
    for v in range(5):
        fig.add_bar(
            y=labels,
            x=[100 * it["counts"][v] / it["n"] for it in shown],
            orientation="h",
            name=instrument.scale[lang][v],
            marker={"color": SCALE_COLOURS[v]},
            hovertemplate="%{x:.0f}" + suffix + "<extra>" + instrument.scale[lang][v] + "</extra>",
        )
    fig.update_layout(
        barmode="stack",
        xaxis={"tickformat": ".0f", "ticksuffix": suffix, "range": [0, 100]},
        yaxis={"autorange": "reversed", "automargin": True},
    )
    return _layout(fig, 90 + 34 * max(len(shown), 1), lang)


def _wrap(text: str, width: int) -> str:
    """Break a long label over lines with <br> (plotly's line break); a word longer than a line is hyphenated."""
    words, lines, line = [], [], ""
    for word in text.split():
        while len(word) > width:
            words.append(word[: width - 1] + "-")
            word = word[width - 1 :]
        words.append(word)
    for word in words:
        if line and len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "<br>".join(lines)


def pyramids_figure(groups: list[tuple[str, list[dict]]], instrument: Instrument, lang: str) -> go.Figure:
    """Draw several groups' pyramids side by side (small multiples sharing the level axis)."""
    from plotly.subplots import make_subplots

    names, _shares = _pyramid_shares([], instrument, lang)
    # Each panel's title is wrapped to the panel's width, so that neighbouring names never run into each other;
    # the top margin grows with the lines of the longest title.
    # Characters a line for a chart about 1,000 px wide (the pages' full width, the PDF's landscape page).
    width = {1: 40, 2: 36, 3: 28, 4: 22}.get(len(groups), 18)
    titles = ["<br>".join(html.escape(line) for line in _wrap(name, width).split("<br>")) for name, _ in groups]
    lines = max([title.count("<br>") + 1 for title in titles] or [1])
    fig = make_subplots(
        rows=1,
        cols=max(len(groups), 1),
        shared_yaxes=True,
        subplot_titles=titles,
        horizontal_spacing=0.03,
    )
    fig.update_annotations(font={"size": 12})
    for col, (_name, pyramid) in enumerate(groups, start=1):
        names, shares = _pyramid_shares(pyramid, instrument, lang)
        fig.add_bar(
            y=names,
            **_pyramid_bar(shares, instrument, lang),
            textposition="inside",
            insidetextanchor="middle",
            textangle=0,
            textfont={"color": "white", "size": 11},
            hovertemplate="%{y}: %{text}<extra></extra>",
            showlegend=False,
            row=1,
            col=col,
        )
    # One scale for every panel, so that the widths can be compared across groups.
    widest = max([p["share"] for _, pyramid in groups for p in pyramid] or [0.3]) / 2 + 0.02
    fig.update_xaxes(range=[-widest, widest], visible=False)
    fig.update_yaxes(categoryorder="array", categoryarray=names, automargin=True)
    fig.update_layout(bargap=0.12)
    top = 16 + 16 * lines
    return _layout(fig, 340 + top, lang, showlegend=False, margin={"l": 10, "r": 10, "t": top, "b": 10})


def trend_figure(history: list[dict], instrument: Instrument, lang: str) -> go.Figure:
    """Draw the index and each level's score over the rounds of a series."""
    with i18n.language(lang):
        index_label, score_label = _("Engagement index"), _("Score (0–100)")
        # Every round of a trend is closed: it is named by its closing day, the end of its period in the list.
        closed = [_("closed %(day)s", day=i18n.day(r["date"], lang)) for r in history]
    labels = [f"{_wrap(html.escape(r['title']), 28)}<br>{when}" for r, when in zip(history, closed, strict=True)]
    fig = go.Figure()
    fig.add_scatter(
        x=labels,
        y=[r.get("index") for r in history],
        name=index_label,
        mode="lines+markers",
        line={"color": "#1d2433", "width": 4},
        hovertemplate="%{y:.0f}<extra>" + index_label + "</extra>",
    )
    colours = ["#9aa3b3", "#67a9cf", "#2166ac", "#1e7a46", ACCENT, "#b2182b"]
    for lv, colour in zip(instrument.levels, colours, strict=False):
        fig.add_scatter(
            x=labels,
            y=[r["scores"].get(lv.id) for r in history],
            name=lv.name[lang],
            mode="lines+markers",
            line={"color": colour, "width": 2},
            hovertemplate="%{y:.0f}<extra>" + lv.name[lang] + "</extra>",
        )
    fig.update_layout(
        yaxis={"range": [0, 100], "title": {"text": score_label}},
        xaxis={"automargin": True, "type": "category"},
    )
    legend = {"orientation": "h", "yanchor": "top", "y": -0.25, "x": 0}
    return _layout(fig, 400, lang, margin={"l": 60, "r": 90, "t": 20, "b": 10}, legend=legend)
