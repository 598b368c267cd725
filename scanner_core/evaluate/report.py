"""The HTML report: one self-contained file, plotly.js embedded, no network needed."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import pandas as pd

from scanner_core.evaluate.horizons import Horizon
from scanner_core.evaluate.outcomes import column

#: The ids of the report's plots, in page order; the browser test checks each drew.
PLOTS = ("picks-per-day", "return-distributions", "hit-rate-by-time", "against-baselines")

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; margin-bottom: 2em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: right; }
th { background: #f3f3f3; } td:first-child, td:nth-child(2) { text-align: left; }
.plot { margin-bottom: 2em; }
"""


def render(
    title: str,
    summary: dict[str, Any],
    picks: pd.DataFrame,
    attribution: pd.DataFrame,
    horizons: Sequence[Horizon],
) -> str:
    """The report as one HTML document."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    scanners = list(summary["scanners"])
    names = [h.name for h in horizons]
    figures = {
        "picks-per-day": _picks_per_day(go, summary),
        "return-distributions": _distributions(go, picks, scanners, names),
        "hit-rate-by-time": _hit_rate_by_time(go, make_subplots, summary, names),
        "against-baselines": _against_baselines(go, make_subplots, summary, names),
    }
    parts = []
    for k, (plot_id, figure) in enumerate(figures.items()):
        parts.append(
            figure.to_html(
                full_html=False,
                include_plotlyjs=k == 0,
                div_id=plot_id,
                config={"displaylogo": False},
            )
        )
    body = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{html.escape(_overview(summary))}</p>",
        "<h2>Per scanner and horizon</h2>",
        _summary_table(summary, names),
        *(f'<div class="plot">{part}</div>' for part in parts),
        "<h2>Symbols: which scanner found them, when, and how they did</h2>",
        _attribution_table(attribution),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )


def _overview(summary: dict[str, Any]) -> str:
    run = summary["run"]
    return (
        f"{run['from']} to {run['to']}: {run['days']} trading days, {run['scans']} scans,"
        f" {summary['picks']} picks; horizons {', '.join(summary['horizons'])};"
        f" random baseline seed {summary['seed']}. Returns are fractions (0.01 = 1%)."
    )


def _picks_per_day(go, summary: dict[str, Any]):
    figure = go.Figure(layout={"title": "Picks per day", "barmode": "stack"})
    for name, row in summary["scanners"].items():
        days = list(row["picks_per_day"])
        figure.add_trace(go.Bar(name=name, x=days, y=[row["picks_per_day"][d] for d in days]))
    figure.update_xaxes(type="category")
    return figure


def _distributions(go, picks: pd.DataFrame, scanners: list[str], names: list[str]):
    figure = go.Figure(
        layout={"title": "Forward returns per scanner and horizon", "boxmode": "group"}
    )
    for name in scanners:
        mine = picks[picks["scanner"] == name]
        xs, ys = [], []
        for h in names:
            done = mine[mine[column("complete", h)].astype(bool)]
            values = done[column("return", h)].dropna().tolist()
            xs += [h] * len(values)
            ys += values
        figure.add_trace(go.Box(name=name, x=xs, y=ys, boxpoints=False))
    figure.update_yaxes(tickformat=".2%")
    return figure


def _hit_rate_by_time(go, make_subplots, summary: dict[str, Any], names: list[str]):
    figure = make_subplots(rows=len(names), cols=1, subplot_titles=names, shared_xaxes=True)
    for k, h in enumerate(names, start=1):
        for j, (name, row) in enumerate(summary["scanners"].items()):
            buckets = row["by_time_of_day"].get(h, {})
            bars = _series_bar(
                go, name, j, k == 1, list(buckets), [b["hit_rate"] for b in buckets.values()]
            )
            figure.add_trace(bars, row=k, col=1)
    figure.update_layout(
        title="Hit rate by time of day (exchange time)", height=220 * len(names) + 100
    )
    figure.update_yaxes(tickformat=".0%", range=[0, 1])
    figure.update_xaxes(type="category")
    return figure


def _against_baselines(go, make_subplots, summary: dict[str, Any], names: list[str]):
    scanners = list(summary["scanners"]) or ["(no scanner)"]
    figure = make_subplots(rows=1, cols=len(scanners), subplot_titles=scanners, shared_yaxes=True)
    for k, name in enumerate(scanners, start=1):
        rows = summary["scanners"].get(name, {}).get("by_horizon", {})
        for j, (label, pick) in enumerate(
            (
                ("scanner", lambda r: r["mean"]),
                ("universe", lambda r: r["universe"]["mean"]),
                ("random", lambda r: r["random"]["mean"]),
            )
        ):
            values = [pick(rows[h]) if h in rows else None for h in names]
            figure.add_trace(_series_bar(go, label, j, k == 1, names, values), row=1, col=k)
    figure.update_layout(title="Mean return against the baselines", barmode="group")
    figure.update_yaxes(tickformat=".2%")
    return figure


def _series_bar(go, name: str, k: int, legend: bool, x: list, y: list):
    """One series' bars in a grid of subplots: its k-th colour everywhere, one legend entry."""
    return go.Bar(
        name=name, legendgroup=name, showlegend=legend, marker={"color": _colour(k)}, x=x, y=y
    )


def _colour(k: int) -> str:
    palette = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
    return palette[k % len(palette)]


def _summary_table(summary: dict[str, Any], names: list[str]) -> str:
    head = (
        "<tr><th>scanner</th><th>horizon</th><th>picks</th><th>complete</th><th>hit rate</th>"
        "<th>mean</th><th>median</th><th>MFE</th><th>MAE</th><th>universe mean</th>"
        "<th>random mean</th></tr>"
    )
    rows = []
    for name, row in summary["scanners"].items():
        for h in names:
            r = row["by_horizon"][h]
            cells = [
                html.escape(name),
                h,
                str(r["picks"]),
                str(r["complete"]),
                _pct(r["hit_rate"]),
                _pct(r["mean"]),
                _pct(r["median"]),
                _pct(r["mfe_mean"]),
                _pct(r["mae_mean"]),
                _pct(r["universe"]["mean"]),
                _pct(r["random"]["mean"]),
            ]
            rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f'<table id="summary">{head}{"".join(rows)}</table>'


def _attribution_table(table: pd.DataFrame) -> str:
    fixed = {"symbol", "scanner", "picks", "first", "last", "best_rank"}
    formatters = {c: _pct for c in table.columns if c not in fixed}
    return table.to_html(
        index=False, table_id="attribution", formatters=formatters, na_rep="", escape=True
    )


def _pct(value: float | None) -> str:
    if value is None or pd.isna(value):
        return ""
    return f"{value:.3%}"
