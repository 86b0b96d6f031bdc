"""Enterprise profile: score and level, full explanation, what changed and why, timeline,
controller and group, the interactive network, and the evidence dossier.

Everything comes masked from the data layer for the signed-in scope; a profile outside the
scope (any route, e.g. a tampered ``?uscc=``) is refused and audited as ``access_denied``.
Views of the enterprise, its group and its network are audited; the dossier is offered only
to roles that may export, and preparing it is audited as ``export``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st
import streamlit.components.v1 as components

from dashboards import data, network_view
from dashboards.exports import dossier_docx, dossier_html
from dashboards.i18n import shown_name
from dashboards.scope import Scope
from dashboards.state import (
    audit,
    cached,
    county_name,
    current_scope,
    deny,
    lang,
    role_spec,
    settings,
    tr,
)
from dashboards.ui.common import (
    MEMBER_COLUMNS,
    audited_downloads,
    group_member_rows,
    indicator_name,
    level_label,
    localise,
)

SECTIONS = ["explanation", "changed", "timeline", "controller", "network", "dossier"]


def _indicators(explanation: dict[str, Any]) -> pd.DataFrame:
    rows = [{"indicator": i.get("id"), "description": indicator_name(i.get("id")),
             "source": i.get("source"), "delivery": i.get("delivery"),
             "value": "" if i.get("value") is None else str(i.get("value")),
             "contribution": i.get("contribution")} for i in explanation["indicators"]]
    frame = pd.DataFrame(rows, columns=["indicator", "description", "source", "delivery",
                                        "value", "contribution"])
    return frame.sort_values("contribution", ascending=False, na_position="last")


def _paths(scope: Scope, explanation: dict[str, Any]) -> pd.DataFrame:
    paths = explanation["paths"]
    keys = tuple(sorted({str(k) for p in paths for k in p.get("nodes", [])}
                        | {str(p.get("from")) for p in paths if p.get("from")}))
    names = cached(data.path_names, scope, keys) if keys else {}

    def show(key: Any) -> str:
        info = names.get(str(key))
        if info is None:  # a placeholder of the masked explanation, or a key without a node
            return shown_name(key, lang())
        return shown_name(info["name"] or key, lang())  # outside: 外县企业 / 外县人员 / …

    rows = []
    for path in paths:
        nodes, rels = path.get("nodes", []), path.get("rels", [])
        chain = show(nodes[0]) if nodes else ""
        for rel, node in zip(rels, nodes[1:], strict=False):
            chain += f" —{tr('rel.' + str(rel))}→ {show(node)}"
        rows.append({"path": chain, "from": show(path.get("from")),
                     "contribution": path.get("contribution")})
    return pd.DataFrame(rows, columns=["path", "from", "contribution"])


def _header(profile: dict[str, Any]) -> None:
    ent, rec, prev = profile["enterprise"], profile["score"] or {}, profile["previous"] or {}
    st.title(str(ent.get("name") or ent.get("uscc")))
    st.caption(f"{ent.get('uscc')} · {county_name(ent.get('county'))}")
    if ent.get("ended"):  # a full registration delivery no longer held it (analytics scores it)
        st.warning(tr("profile.ended", date=ent["ended"]))
    cols = st.columns(4)
    if rec:
        delta = None
        if prev.get("score") is not None:
            delta = round(float(rec.get("score", 0)) - float(prev["score"]), 1)
        cols[0].metric(tr("profile.score"), f"{float(rec.get('score') or 0):.1f}", delta,
                       delta_color="inverse")
        cols[1].metric(tr("profile.level"), level_label(rec.get("level")))
        cols[2].metric(tr("col.sector"), str(rec.get("sector") or "—"))
        cols[3].metric(tr("col.department"), str(rec.get("department") or "—"))
    else:
        cols[0].info(tr("profile.no_score"))


def _explanation(scope: Scope, profile: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    expl = profile["explanation"]
    st.write(tr("profile.direct", direct=f"{float(expl.get('direct') or 0):.1f}",
                linked=f"{float(expl.get('linked') or 0):.1f}"))
    if expl.get("linked_by"):
        from analytics.explain import channel_text

        st.caption(tr("profile.linked_by", parts=channel_text(expl["linked_by"], lang())))
    indicators = _indicators(expl)
    st.markdown(f"**{tr('profile.indicators')}**")
    st.dataframe(localise(indicators, {"indicator": "col.indicator",
                                       "description": "col.description", "source": "col.source",
                                       "delivery": "col.delivery", "value": "col.value",
                                       "contribution": "col.contribution"}),
                 hide_index=True, placeholder="—", width="stretch")
    st.markdown(f"**{tr('profile.paths')}**")
    paths = _paths(scope, expl)
    if paths.empty:
        st.caption(tr("profile.no_paths"))
    else:
        st.dataframe(localise(paths, {"path": "col.path", "from": "col.from",
                                      "contribution": "col.contribution"}),
                     hide_index=True, placeholder="—", width="stretch")
    return indicators, paths


def _why(previous: dict[str, Any], current: dict[str, Any]) -> str:
    """One sentence on what changed and why (analytics.explain when installed)."""
    try:
        from analytics.explain import diff, diff_text
    except ImportError:
        return f"{previous.get('score')} → {current.get('score')}"
    return str(diff_text(diff(previous, current), lang()))


def _changes(profile: dict[str, Any]) -> pd.DataFrame:
    changes = data.changes(profile["explanation"], profile["previous_explanation"])
    prev = profile["previous"] or {}
    rec = profile["score"] or {}
    if prev and rec:
        st.write(_why(prev, rec))
        if prev.get("level") != rec.get("level"):
            st.write(f"{level_label(prev.get('level'))} → {level_label(rec.get('level'))}")
    if not prev:
        st.caption(tr("profile.first_score"))
    elif changes.empty:
        st.caption(tr("profile.no_change"))
    else:
        st.dataframe(localise(changes, {"indicator": "col.indicator", "before": "col.before",
                                        "now": "col.now", "delta": "col.delta"}),
                     hide_index=True, placeholder="—", width="stretch")
    history = profile["history"]
    if len(history) > 1:
        st.markdown(f"**{tr('profile.history')}**")
        st.line_chart(history.set_index("started")["score"], height=180)
    return changes


def _timeline(scope: Scope, uscc: str) -> pd.DataFrame:
    events = cached(data.timeline, scope, uscc)
    if events.empty:
        st.caption(tr("profile.no_events"))
        return events
    shown = events.assign(kind=events["kind"].map(lambda k: tr(f"kind.{k}")))
    if shown["ended"].notna().any():
        st.caption(tr("profile.ended_events"))
    st.dataframe(localise(shown, {"date": "col.date", "kind": "col.kind",
                                  "summary": "col.summary", "role": "col.role",
                                  "source": "col.source", "delivery": "col.delivery",
                                  "ended": "col.ended_on"}),
                 hide_index=True, placeholder="—", width="stretch")
    return shown


def _controller_group(scope: Scope, profile: dict[str, Any]) -> pd.DataFrame:
    controllers = profile["controllers"]
    if not controllers:
        st.caption(tr("profile.no_controller"))
    for ctl in controllers:
        name = ctl["name"] if ctl["visible"] else shown_name(ctl["name"] or
                                                              tr("scope.outside"), lang())
        share = f" · {float(ctl['share']):.0%}" if ctl.get("share") is not None else ""
        st.write(f"{tr('col.controller')}：{name}（{tr('kind.' + str(ctl['label']))}）{share}")
    group = profile["group"]
    members = pd.DataFrame()
    if group:
        counties = "、".join(county_name(c) for c in group.get("counties") or [])
        size = group.get("members")  # analytics stores the member list, older graphs a count
        st.write(tr("profile.group", group_id=group.get("group_id"), counties=counties,
                    members=len(size) if isinstance(size, list) else size))
        audit("view_group", str(group.get("group_id")), {"from": profile["enterprise"]
                                                         .get("uscc")})
        members = group_member_rows(cached(data.group_members, scope,
                                           str(group.get("group_id"))))
        st.dataframe(localise(members, MEMBER_COLUMNS), hide_index=True,
                     placeholder="—", width="stretch")
    return members


def _network(scope: Scope, uscc: str) -> None:
    cols = st.columns([1, 4])
    depth = cols[0].slider(tr("profile.depth"), 1, 3, 1, key="net_depth")
    types = cols[1].multiselect(tr("profile.types"), list(data.NETWORK_TYPES),
                                default=list(data.DEFAULT_NETWORK_TYPES),
                                format_func=lambda v: tr(f"rel.{v}"), key="net_types")
    net = cached(data.network, scope, uscc, depth, tuple(types))
    audit("view_network", uscc, {"depth": depth, "types": sorted(types),
                                 "nodes": len(net.nodes)})
    st.caption(tr("profile.network_size", nodes=len(net.nodes), edges=len(net.edges)))
    if any(edge.get("ended") for edge in net.edges):
        st.caption(tr("network.legend_ended"))
    if net.capped:
        st.warning(tr("profile.capped", n=len(net.nodes)))
    components.html(network_view.render_html(net, lang()), height=580)


def _dossier(profile: dict[str, Any], sections: list[tuple[str, pd.DataFrame]]) -> None:
    ent, rec = profile["enterprise"], profile["score"] or {}
    mark = settings().confidentiality_mark
    title = f"{tr('dossier.title')}：{ent.get('name')}"
    header = [(tr("col.name"), ent.get("name")), (tr("col.uscc"), ent.get("uscc")),
              (tr("col.county"), county_name(ent.get("county"))),
              (tr("col.score"), rec.get("score")), (tr("col.level"), level_label(rec.get("level"))),
              (tr("col.group"), rec.get("group_id")),
              ("", tr("dossier.generated", at=f"{datetime.now():%Y-%m-%d %H:%M}",
                      run_id=rec.get("run_id")))]
    stem = f"dossier_{ent.get('uscc')}"

    def build() -> list[tuple[str, bytes, str, str]]:
        # built on demand: python-docx and the tables cost time on every profile view
        return [(tr("profile.dossier_html"),
                 dossier_html(title, mark, header, sections).encode("utf-8"),
                 f"{stem}.html", "text/html"),
                (tr("profile.dossier_docx"), dossier_docx(title, mark, header, sections),
                 f"{stem}.docx", "application/vnd.openxmlformats-officedocument."
                                 "wordprocessingml.document")]

    audited_downloads("dossier", tr("profile.dossier_make"), allowed=role_spec().may_export,
                      target=str(ent.get("uscc")), detail={"kind": "dossier"}, build=build)


def selected_uscc() -> str | None:
    """The enterprise to show: ``?uscc=`` in the URL, else the last one opened."""
    uscc = st.query_params.get("uscc") or st.session_state.get("uscc")
    return str(uscc) if uscc else None


def render() -> None:
    """The profile page."""
    scope = current_scope()
    uscc = selected_uscc()
    if not uscc:
        st.title(tr("page.profile"))
        st.info(tr("profile.pick"))
        return
    profile = cached(data.profile, scope, uscc)
    if profile is None:  # unknown or outside the scope (e.g. a tampered ?uscc=): refused
        st.title(tr("page.profile"))
        deny(uscc, {"param": "uscc", "page": "profile"}, tr("profile.not_found"))
        st.session_state.pop("uscc", None)
        return
    st.session_state["uscc"] = uscc
    audit("view_enterprise", uscc)
    _header(profile)
    # One section at a time (not st.tabs, which would compute every section on every view).
    section = st.radio(tr("profile.section"), SECTIONS, horizontal=True, key="profile_section",
                       format_func=lambda key: tr(f"profile.{key}"),
                       label_visibility="collapsed")
    if section == "explanation":
        _explanation(scope, profile)
    elif section == "changed":
        _changes(profile)
    elif section == "timeline":
        _timeline(scope, uscc)
    elif section == "controller":
        _controller_group(scope, profile)
    elif section == "network":
        _network(scope, uscc)
    else:
        _dossier_section(scope, profile, uscc)


def _dossier_section(scope: Scope, profile: dict[str, Any], uscc: str) -> None:
    """The dossier: every section's table (shown folded) and the two downloads."""
    with st.expander(tr("profile.dossier_contents")):
        indicators, paths = _explanation(scope, profile)
        changes = _changes(profile)
        events = _timeline(scope, uscc)
        members = _controller_group(scope, profile)
    _dossier(profile, [
        (tr("profile.indicators"), indicators), (tr("profile.paths"), paths),
        (tr("profile.changed"), changes), (tr("profile.timeline"), events),
        (tr("profile.controller"), localise(members, MEMBER_COLUMNS)),
    ])
