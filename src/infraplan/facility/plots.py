"""Plotly figures for `facility --plot` and `campus --plot`: the power chain from chip to facility (Sankey),
the capex breakdown, and the build-out by phase. Written as one self-contained HTML file, atomically (a
temporary file renamed into place), so a failed write never leaves half a file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from infraplan.catalog.output_files import write_atomically


def _power_sankey(report: dict[str, Any]) -> go.Sankey:
    p = report["power_breakdown_w"]
    labels = ["accelerators", "hosts (CPU, NIC, fans, PSU loss)", "servers", "scale-out network", "storage & misc",
              "IT load", "cooling & power distribution", "facility", "scale-up switches"]
    mw = {k: v / 1e6 for k, v in p.items()}
    servers = mw["accelerators"] + mw["hosts"]
    switches = mw.get("scale_up_switches", 0.0)  # NVL72's NVSwitch trays; none on a DGX / HGX baseboard's node
    it = servers + switches + mw["network"] + mw["storage_and_misc"]
    source = [0, 1, 2, 3, 4, 5, 6, 8]
    target = [2, 2, 5, 5, 5, 7, 7, 5]
    value = [mw["accelerators"], mw["hosts"], servers, mw["network"], mw["storage_and_misc"], it,
             mw["cooling_and_power_distribution"], switches]
    return go.Sankey(node={"label": labels, "pad": 14},
                     link={"source": source, "target": target, "value": value,
                           "hovertemplate": "%{value:.3g} MW<extra></extra>"})


def facility_figure(report: dict[str, Any], phases: list[dict[str, Any]] | None = None,
                    title: str = "") -> go.Figure:
    """Sankey of the power chain, capex bars and (for a campus with phases) the build-out by year."""
    rows = 3 if phases else 2
    specs = [[{"type": "domain"}], [{"type": "xy"}]] + ([[{"type": "xy"}]] if phases else [])
    titles = ["power chain (MW, peak)", "capex (billion USD)"] + (["build-out by phase"] if phases else [])
    fig = make_subplots(rows=rows, cols=1, specs=specs, subplot_titles=titles, vertical_spacing=0.08)
    fig.add_trace(_power_sankey(report), row=1, col=1)
    capex = report["capex_usd"] or {}  # null without a server price: no bars
    fig.add_trace(go.Bar(x=list(capex), y=[v / 1e9 for v in capex.values()], name="capex (B USD)",
                         hovertemplate="%{x}: %{y:.3g} B USD<extra></extra>"), row=2, col=1)
    fig.update_yaxes(title_text="billion USD", row=2, col=1)
    if phases:
        years = [ph["date"] for ph in phases]  # `CampusPhase.date`: 2026-07, as the CLI writes it (was str(2026.5))
        fig.add_trace(go.Bar(x=years, y=[ph["facility_power_w"] / 1e6 for ph in phases], name="new facility MW"),
                      row=3, col=1)
        fig.add_trace(go.Scatter(x=years, y=[ph["cumulative_facility_power_w"] / 1e6 for ph in phases],
                                 name="cumulative facility MW", mode="lines+markers"), row=3, col=1)
        fig.update_yaxes(title_text="MW", row=3, col=1)
    fig.update_layout(title=title, height=420 * rows, showlegend=bool(phases))
    return fig


def write_html(fig: go.Figure, path: str) -> str:
    """Write the figure to `path` atomically with the user's umask; InputError if it cannot be written."""
    html = fig.to_html(include_plotlyjs=True, full_html=True)
    return write_atomically(path, lambda tmp: Path(tmp).write_text(html, encoding="utf-8"), "--plot")
