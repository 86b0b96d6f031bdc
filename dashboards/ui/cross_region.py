"""Cross-region board: groups spanning counties/cities, their regions on a map, the proposed
lead region, the hand-off status and the members per region.

A county sees the groups touching it as groups (regions, member firms' names and codes; no
evidence or persons of other counties, no controller). The full hand-off package
(``workflow.handoff``) is issued by the city role only, and audited as ``handoff``."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboards import data, geo
from dashboards.state import (
    audit,
    cached,
    county_name,
    current_scope,
    current_user_obj,
    deny,
    driver,
    open_profile,
    role_spec,
    settings,
    tr,
)
from dashboards.ui.city import _rings
from dashboards.ui.common import (
    MEMBER_COLUMNS,
    Download,
    audited_downloads,
    group_member_rows,
    localise,
    run_banner,
)
from workflow.ui import render_handoff_control

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _region_map(members: pd.DataFrame, lead: str | None) -> go.Figure:
    counts = members.groupby("county").size()
    fig = go.Figure()
    for feature in geo.city_boundaries(settings().city).geojson["features"]:
        code = feature["id"]
        n = int(counts.get(code, 0))
        colour = "#d62728" if code == lead else ("#ff9896" if n else "#f2f2f2")
        xs, ys = _rings(feature["geometry"])
        fig.add_trace(go.Scatter(x=xs, y=ys, fill="toself", fillcolor=colour, mode="lines",
                                 line={"color": "#555555", "width": 1}, hoverinfo="skip",
                                 showlegend=False))
    centres = geo.county_centroids(settings().city)
    codes = list(centres)
    fig.add_trace(go.Scatter(
        x=[centres[c][0] for c in codes], y=[centres[c][1] for c in codes], mode="text",
        text=[f"{county_name(c)} {int(counts.get(c, 0)) or ''}" for c in codes],
        hoverinfo="skip", showlegend=False))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x", scaleratio=1.25)
    fig.update_layout(height=420, margin={"l": 0, "r": 0, "t": 10, "b": 0},
                      plot_bgcolor="white", dragmode=False)
    return fig


def render() -> None:
    """The cross-region page."""
    scope = current_scope()
    st.title(tr("page.cross"))
    if run_banner(scope) is None:
        return
    groups = cached(data.cross_region_groups, scope)
    if groups.empty:
        st.info(tr("cross.none"))
        return
    shown = groups.assign(
        members=groups["members"].map(lambda v: len(v) if isinstance(v, list) else v),
        counties=groups["counties"].map(
            lambda v: "、".join(county_name(c) for c in v) if isinstance(v, list) else ""),
        cities=groups["cities"].map(
            lambda v: "、".join(county_name(c) for c in v) if isinstance(v, list) else ""),
        lead_region=groups["lead_region"].map(lambda v: county_name(v) if v else ""),
        handoff_status=groups["handoff_status"].map(
            lambda v: tr(f"handoff.{v}") if isinstance(v, str) else tr("handoff.none")))
    st.subheader(tr("cross.groups"))
    st.dataframe(localise(shown, {"group_id": "col.group", "score": "col.score",
                                  "members": "col.members", "counties": "col.counties",
                                  "cities": "col.cities", "lead_region": "col.lead",
                                  "controller": "col.controller",
                                  "handoff_status": "col.handoff"}),
                 hide_index=True, placeholder="—", width="stretch")
    ids = list(groups["group_id"])
    asked = st.query_params.get("group")
    if asked and asked not in ids:  # a group not touching the scope: refused and audited
        deny(str(asked), {"param": "group", "page": "cross"})
    index = ids.index(asked) if asked in ids else 0
    group_id = st.selectbox(tr("cross.pick"), ids, index=index, key="cross_pick")
    audit("view_group", str(group_id))
    row = groups[groups["group_id"] == group_id].iloc[0]
    lead = row.get("lead_region")
    st.write(tr("cross.lead", lead=county_name(lead) if isinstance(lead, str) else "—"))
    status = row.get("handoff_status") if isinstance(row.get("handoff_status"), str) else "none"
    st.write(tr("cross.handoff_status", status=tr(f"handoff.{status}")))
    render_handoff_control(driver(), current_user_obj(), str(group_id), show_status=False)
    members = cached(data.group_members, scope, str(group_id))
    left, right = st.columns([2, 3])
    with left:
        st.markdown(f"**{tr('cross.map')}**")
        st.plotly_chart(_region_map(members, lead if isinstance(lead, str) else None),
                        width="stretch", config={"displaylogo": False})
    with right:
        st.markdown(f"**{tr('cross.members')}**")
        per_region = members.groupby("county").size().rename("n").reset_index()
        per_region["county"] = per_region["county"].map(county_name)
        st.dataframe(per_region.rename(columns={"county": tr("col.county"),
                                                "n": tr("col.members")}),
                     hide_index=True, placeholder="—", width="stretch")
        st.dataframe(localise(group_member_rows(members), MEMBER_COLUMNS), hide_index=True,
                     placeholder="—",
                     width="stretch")
        visible = members[members["visible"] & members["uscc"].notna()]
        if not visible.empty:
            names = dict(zip(visible["uscc"], visible["name"], strict=True))
            pick = st.selectbox(tr("county.pick_enterprise"), list(visible["uscc"]),
                                format_func=lambda u: f"{names.get(u)} ({u})",
                                key="cross_member")
            if st.button(tr("county.open"), key="cross_open"):
                open_profile(str(pick))
    if role_spec().may_handoff:
        st.subheader(tr("cross.handoff"))
        audited_downloads(f"handoff_{group_id}", tr("cross.handoff_make"), allowed=True,
                          target=str(group_id), detail={"lead_region": lead},
                          build=lambda: handoff_files(str(group_id)), action="handoff")


def handoff_files(group_id: str) -> list[Download]:
    """Write the hand-off package (``workflow.handoff.write_package``: DOCX + JSON, the
    group's hand-off status moves to ``draft``) under ``RISKGRAPH_HOME/handoff/`` and return
    both files for download."""
    from workflow.handoff import write_package

    cfg = settings()
    docx_path, json_path = write_package(driver(), cfg, group_id, cfg.home / "handoff",
                                         current_user_obj(), database=cfg.neo4j_database)
    st.cache_data.clear()  # the board shows the new hand-off status
    return [(tr("cross.handoff_docx"), docx_path.read_bytes(), docx_path.name, DOCX),
            (tr("cross.handoff_json"), json_path.read_bytes(), json_path.name,
             "application/json")]
