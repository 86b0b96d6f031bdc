"""Risk ledger page (风险台账): a county's ledger (``workflow.ui.render_ledger``: statuses,
plans, history, overdue marks; edited by the county office, read by the city) and the monthly
report to the city (``workflow.reports``, DOCX + XLSX, audited as an export)."""

from __future__ import annotations

from datetime import date

import streamlit as st

from dashboards.state import (
    audit,
    city_counties,
    county_name,
    current_scope,
    current_user_obj,
    deny,
    driver,
    role_spec,
    settings,
    tr,
)
from dashboards.ui.common import Download, audited_downloads
from workflow.ui import render_ledger

#: roles that write the county's monthly report (the county office, and the city reading it)
REPORT_ROLES = ("county", "city")

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _last_month(today: date) -> str:
    first = today.replace(day=1)
    year, month = (first.year, first.month - 1) if first.month > 1 else (first.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def monthly_files(county: str, month: str) -> list[Download]:
    """Write the county's monthly report (``workflow.reports.monthly_report``) under
    ``RISKGRAPH_HOME/reports/<county>/`` and return both files for download."""
    from workflow.reports import monthly_report, parse_month

    parse_month(month)
    cfg = settings()
    out = cfg.home / "reports" / county
    docx_path, xlsx_path = monthly_report(driver(), cfg, county, month, out,
                                          database=cfg.neo4j_database,
                                          scope=current_scope())
    return [(tr("ledger.report_docx"), docx_path.read_bytes(), docx_path.name, DOCX),
            (tr("ledger.report_xlsx"), xlsx_path.read_bytes(), xlsx_path.name, XLSX)]


def _monthly_report(county: str) -> None:
    st.subheader(tr("ledger.report"))
    month = st.text_input(tr("ledger.month"), _last_month(date.today()), key="report_month")
    allowed = current_user_obj().role in REPORT_ROLES and role_spec().may_export
    try:
        from workflow.reports import parse_month

        parse_month(month)
    except Exception:  # noqa: BLE001 - any bad month text: say so, offer nothing
        st.error(tr("ledger.bad_month"))
        return
    audited_downloads(f"report_{county}_{month}", tr("ledger.report_make"), allowed=allowed,
                      target=f"{county}_{month}_月报", detail={"county": county,
                                                              "month": month,
                                                              "kind": "monthly_report"},
                      build=lambda: monthly_files(county, month))


def render() -> None:
    """The ledger page."""
    scope = current_scope()
    user = current_user_obj()
    st.title(tr("page.ledger"))
    options = list(scope.counties) if scope.counties is not None else city_counties()
    if not options:
        st.info(tr("county.none"))
        return
    asked = st.query_params.get("county")
    if asked and asked not in options:
        deny(str(asked), {"param": "county", "page": "ledger"})
    wanted = asked if asked in options else st.session_state.get("county")
    index = options.index(wanted) if wanted in options else 0
    county = st.selectbox(tr("county.pick"), options, index=index, format_func=county_name,
                          key="ledger_county")
    st.session_state["county"] = county
    audit("view_county", county, {"page": "ledger"})
    render_ledger(driver(), scope, county, user)
    st.divider()
    _monthly_report(county)
