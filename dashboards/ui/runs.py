"""Data and runs (operator): freshness per source and county, the latest ingest report (with
its notes on how the files differed from the contract), run history with stage timings, and
alerts."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import streamlit as st

from dashboards import data
from dashboards.scope import Scope
from dashboards.state import cached, city_counties, county_name, current_scope, settings, tr
from dashboards.ui.common import level_label, localise, markdown_text

STALE_DAYS = 45
HEADERS = {
    "run_id": "col.run", "kind": "col.run_kind", "status": "col.status", "live": "col.live",
    "started": "col.started", "finished": "col.finished", "ended": "col.ended",
    "outcome": "col.outcome", "error": "col.error", "model_version": "col.model_version",
    "refresh_model_version": "col.refresh_model", "deliveries_total": "col.deliveries",
    "deliveries_loaded": "col.deliveries_loaded", "rows_quarantined": "col.quarantined",
    "rows_rejected": "col.rejected", "recomputed": "col.recomputed", "at": "col.at",
    "name": "col.name", "county": "col.county", "level": "col.level", "score": "col.score",
    "department": "col.department", "message": "col.message",
}
"""Headers of the run history and alert tables (other run fields keep their names)."""
ALERT_COLUMNS = ("at", "kind", "name", "county", "level", "score", "department", "status",
                 "message")
NOTE_HEADERS = {"table": "col.table", "note": "notes.col_note", "written": "notes.col_written",
                "read_as": "notes.col_read_as"}
"""Headers of a file's ingest notes (dashboards.data.report_notes)."""
NOTE_TEXT = {
    "sheet_ignored": "notes.sheet_ignored", "sheet_of_file_name": "notes.sheet_of_file_name",
    "sheet_name_ending": "notes.sheet_name_ending", "header_mapped": "notes.header_mapped",
    "column_not_read": "notes.column_not_read", "keys_kept": "notes.keys_kept",
    "recorded": "notes.recorded"}
"""What each kind of note (dashboards.data.NOTE_KINDS) says."""


def _header(column: object) -> str:
    """The localised header of a run-history column."""
    name = str(column)
    if name.startswith("t_"):
        return tr("col.stage_seconds", stage=name[2:])
    key = HEADERS.get(name)
    return tr(key) if key else name


def _alert_header(column: object) -> str:
    """The localised header of an alert column."""
    return tr("col.alert_kind") if str(column) == "kind" else _header(column)


def _age(latest: Any) -> int | None:
    text = "".join(ch for ch in str(latest or "") if ch.isdigit())[:8]
    try:
        return (date.today() - datetime.strptime(text, "%Y%m%d").date()).days
    except ValueError:
        return None


def _report(home: Path, scope: Scope) -> None:
    """An ingest report: the newest, or an earlier one picked by its run id."""
    st.subheader(tr("runs.report"))
    chosen = None
    offered = data.ingest_runs(home, scope)
    if len(offered) > 1:
        chosen = st.selectbox(tr("runs.report_pick"), offered, index=0, key="ingest_run")
    report = data.ingest_report(home, scope, chosen)
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
    _notes(report)


def _notes(report: dict[str, Any]) -> None:
    """The ingest notes, one table per file under its delivery, source and file name."""
    st.markdown(f"**{tr('notes.title')}**")
    files = data.report_notes(report)
    if not files:
        st.caption(tr("notes.none"))
        return
    st.caption(tr("notes.help"))
    for file in files:
        st.markdown(markdown_text(" · ".join(
            f"{tr(key)} {file[field] or '—'}" for key, field in (
                ("col.delivery", "delivery"), ("col.source", "source"), ("col.file", "file")))))
        st.dataframe(localise(_note_rows(file["notes"]), NOTE_HEADERS), hide_index=True,
                     placeholder="—", width="stretch")


def _note_rows(notes: Any) -> Any:
    """A file's notes in words: the note's text, names quoted (spaces stay visible)."""
    def quoted(value: Any, kind: str) -> str | None:
        if value is None:
            return None
        return str(value) if kind == "recorded" else tr("notes.quoted", text=value)

    return notes.assign(
        note=[tr(NOTE_TEXT.get(kind, "notes.recorded"), n=count)
              for kind, count in zip(notes["note"], notes["count"], strict=True)],
        written=[quoted(value, kind)
                 for value, kind in zip(notes["written"], notes["note"], strict=True)])


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
    _report(settings().home, scope)
    st.subheader(tr("runs.history"))
    history = cached(data.run_history, scope)
    if not history.empty:
        first = [c for c in ("run_id", "kind", "status", "live", "started", "finished",
                             "ended") if c in history]
        first += sorted(str(c) for c in history.columns
                        if str(c).startswith(("seconds_", "t_")))
        ordered = history[first + [c for c in history if c not in first]]
        st.dataframe(ordered.rename(columns=_header), hide_index=True, placeholder="—",
                     width="stretch")
    st.subheader(tr("runs.alerts"))
    alerts = cached(data.alerts, scope)
    if not alerts.empty:
        if "county" in alerts:
            alerts = alerts.assign(county=alerts["county"].map(
                lambda c: county_name(c) if isinstance(c, str) else ""))
        if "level" in alerts:
            alerts = alerts.assign(level=alerts["level"].map(
                lambda v: level_label(v) if isinstance(v, str) else ""))
        shown = [c for c in ALERT_COLUMNS if c in alerts]
        st.dataframe(alerts[shown].rename(columns=_alert_header), hide_index=True,
                     placeholder="—",
                     width="stretch")
