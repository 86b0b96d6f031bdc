"""Data and runs (operator): freshness per source and county, the latest ingest report, run
history with stage timings, and alerts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import streamlit as st

from dashboards import data
from dashboards.state import cached, city_counties, county_name, current_scope, settings, tr
from dashboards.ui.common import localise

STALE_DAYS = 45


def _age(latest: Any) -> int | None:
    text = "".join(ch for ch in str(latest or "") if ch.isdigit())[:8]
    try:
        return (date.today() - datetime.strptime(text, "%Y%m%d").date()).days
    except ValueError:
        return None


def _report(report: dict[str, Any] | None) -> None:
    st.subheader(tr("runs.report"))
    if not report:
        st.caption(tr("runs.no_report"))
        return
    st.caption(f"{tr('col.run')}: {report.get('run_id')} · {report.get('finished', '')}")
    summary = data.report_summary(report)
    cols = st.columns(3)
    for col, key in zip(cols, ("loaded", "quarantined", "rejected"), strict=True):
        value = summary[key]
        col.metric(tr(f"runs.{key}"), "—" if value is None else f"{value}")
    if not summary["reasons"].empty:
        st.markdown(f"**{tr('runs.reasons')}**")
        st.dataframe(localise(summary["reasons"], {"rule": "col.rule", "rows": "col.rows"}),
                     hide_index=True, placeholder="—")
    if not summary["tables"].empty:
        st.dataframe(localise(summary["tables"], {
            "delivery": "col.delivery", "source": "col.source", "file": "col.file",
            "table": "col.table", "status": "col.status", "rows_read": "col.rows_read",
            "rows_loaded": "runs.loaded", "rows_quarantined": "runs.quarantined",
            "duplicates": "col.duplicates", "reasons": "runs.reasons",
            "message": "col.message"}), hide_index=True, placeholder="—", width="stretch")


def render() -> None:
    """The data-and-runs page."""
    scope = current_scope()
    st.title(tr("page.runs"))
    st.subheader(tr("runs.freshness"))
    st.caption(tr("runs.stale", days=STALE_DAYS))
    fresh = cached(data.freshness, scope)
    fresh = fresh[fresh["county"].isin(city_counties())]  # firms registered elsewhere: not ours
    if not fresh.empty:
        pivot = fresh.pivot_table(index="county", columns="source", values="latest",
                                  aggfunc="max").fillna("")
        pivot.index = [county_name(c) for c in pivot.index]

        def stale(value: Any) -> str:
            age = _age(value)
            return "background-color: #f8d7da" if age is None or age > STALE_DAYS else ""

        st.dataframe(pivot.style.map(stale), width="stretch", placeholder="—")
    deliveries = cached(data.deliveries, scope)
    if not deliveries.empty:
        st.markdown(f"**{tr('runs.deliveries')}**")
        st.dataframe(localise(deliveries, {"source": "col.source", "latest": "col.latest",
                                           "deliveries": "col.deliveries"}),
                     hide_index=True, placeholder="—", width="stretch")
    _report(data.ingest_report(settings().home, scope))
    st.subheader(tr("runs.history"))
    history = cached(data.run_history, scope)
    if not history.empty:
        first = [c for c in ("run_id", "kind", "status", "live", "started", "finished",
                             "ended") if c in history]
        first += sorted(str(c) for c in history.columns
                        if str(c).startswith(("seconds_", "t_")))
        st.dataframe(history[first + [c for c in history if c not in first]],
                     hide_index=True, placeholder="—", width="stretch")
    st.subheader(tr("runs.alerts"))
    alerts = cached(data.alerts, scope)
    if not alerts.empty:
        if "county" in alerts:
            alerts = alerts.assign(county=alerts["county"].map(
                lambda c: county_name(c) if isinstance(c, str) else ""))
        st.dataframe(alerts, hide_index=True, placeholder="—", width="stretch")
