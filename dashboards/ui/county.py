"""County view (县区处非办): the county's enterprises by score (each with its ledger status),
filters, the audited XLSX download, and the county's risk ledger (``workflow.ui``). Also the
shared enterprise table used by the sector view."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import data
from dashboards.exports import xlsx_bytes
from dashboards.state import (
    audit,
    cached,
    city_counties,
    county_name,
    current_scope,
    current_user_obj,
    deny,
    driver,
    open_profile,
    pages_for,
    role_spec,
    settings,
    tr,
)
from dashboards.ui.common import (
    audited_downloads,
    level_pills,
    localise,
    run_banner,
    with_labels,
)

PAGE_ROWS = 100
"""Rows of the risk list drawn at once (the XLSX download has every filtered row)."""
COLUMNS = {"name": "col.name", "uscc": "col.uscc", "score": "col.score", "level": "col.level",
           "change": "col.change", "prev_level": "col.prev_level", "sector": "col.sector",
           "department": "col.department", "group_id": "col.group",
           "cross_region": "col.cross", "lead_region": "col.lead", "county": "col.county",
           "ledger_status": "col.ledger", "reasons": "col.reasons"}


def _all(value: str) -> str:
    return value or tr("county.all")


def _filters(frame: pd.DataFrame, key: str, sector_filter: bool = True) -> pd.DataFrame:
    cols = st.columns(5)
    levels = cols[0].multiselect(tr("county.levels"), list(data.LEVELS),
                                 default=["red", "orange", "yellow", "blue"],
                                 format_func=lambda v: tr(f"level.{v}"), key=f"{key}_levels")
    name = cols[1].text_input(tr("county.name_filter"), key=f"{key}_name")
    sectors = sorted(str(v) for v in frame["sector"].dropna().unique())
    sector = cols[2].selectbox(tr("county.sector_filter"), ["", *sectors], key=f"{key}_sector",
                               format_func=_all) if sector_filter else ""
    depts = sorted(str(v) for v in frame["department"].dropna().unique())
    dept = cols[3].selectbox(tr("county.dept_filter"), ["", *depts], key=f"{key}_dept",
                             format_func=_all)
    cross = cols[4].checkbox(tr("county.cross_only"), key=f"{key}_cross")
    out = frame[frame["level"].isin(levels)] if levels else frame
    if name:
        out = out[out["name"].fillna("").str.contains(name, regex=False)]
    if sector:
        out = out[out["sector"] == sector]
    if dept:
        out = out[out["department"] == dept]
    if cross:
        out = out[out["cross_region"].fillna(False).astype(bool)]
    return out


def _page(shown: pd.DataFrame, key: str) -> pd.DataFrame:
    """The rows of the chosen page (``PAGE_ROWS`` a page) with the count and a page picker:
    a county's whole list at once made every rerun and every fresh load slow."""
    pages = max(1, -(-len(shown) // PAGE_ROWS))
    if pages == 1:
        st.caption(tr("county.count", n=len(shown)))
        return shown
    cols = st.columns([3, 1])
    number = int(cols[1].number_input(tr("county.page", pages=pages), min_value=1,
                                      max_value=pages, value=1, step=1, key=f"{key}_page"))
    number = min(number, pages)
    first = (number - 1) * PAGE_ROWS
    cols[0].caption(tr("county.count_page", n=len(shown), first=first + 1,
                       last=min(first + PAGE_ROWS, len(shown))))
    return shown.iloc[first:first + PAGE_ROWS]


def enterprise_table(frame: pd.DataFrame, key: str, file_stem: str,
                     sector_filter: bool = True) -> None:
    """Filters, the sorted table (select a row to open the profile), and the XLSX download."""
    shown = _filters(frame, key, sector_filter)
    columns = dict(COLUMNS)
    if shown["ledger_status"].isna().all():
        columns.pop("ledger_status")
    sheet = localise(with_labels(shown), columns)
    page = _page(shown, key)
    pills, config = level_pills(sheet.loc[page.index])
    event = st.dataframe(pills, hide_index=True, placeholder="—", width="stretch",
                         key=f"{key}_table", on_select="rerun", selection_mode="single-row",
                         column_config={**config, tr("col.score"): st.column_config.ProgressColumn(
                             tr("col.score"), min_value=0, max_value=100, format="%.1f")})
    rows = getattr(getattr(event, "selection", None), "rows", None) or []
    if rows and rows[0] < len(page):
        open_profile(str(page.iloc[rows[0]]["uscc"]))
    cols = st.columns([3, 1])
    options = list(page["uscc"])
    names = dict(zip(page["uscc"], page["name"], strict=True))
    pick = cols[0].selectbox(tr("county.pick_enterprise"), options, key=f"{key}_pick",
                             format_func=lambda u: f"{names.get(u)} ({u})")
    if cols[1].button(tr("county.open"), key=f"{key}_open", disabled=not options) and pick:
        open_profile(str(pick))
    mark = settings().confidentiality_mark
    audited_downloads(
        f"{key}_xlsx", tr("county.export"), allowed=role_spec().may_export,
        target=f"{file_stem}.xlsx", detail={"rows": len(sheet), "page": key},
        build=lambda: [(tr("county.download"), xlsx_bytes(sheet, mark=mark),
                        f"{file_stem}.xlsx", "application/vnd.openxmlformats-officedocument."
                        "spreadsheetml.sheet")])


def render() -> None:
    """The county page."""
    scope = current_scope()
    st.title(tr("page.county"))
    if run_banner(scope) is None:
        return
    options = list(scope.counties) if scope.counties is not None else city_counties()
    if not options:
        st.info(tr("county.none"))
        return
    asked = st.query_params.get("county")
    if asked and asked not in options:  # a tampered or foreign link: refused and audited
        deny(str(asked), {"param": "county", "page": "county"})
    wanted = asked if asked in options else st.session_state.get("county")
    index = options.index(wanted) if wanted in options else 0
    county = st.selectbox(tr("county.pick"), options, index=index, format_func=county_name,
                          key="county_select")
    st.session_state["county"] = county
    audit("view_county", county)
    frame = cached(data.enterprises, scope, county=county)
    st.subheader(county_name(county))
    enterprise_table(frame, "county", f"风险清单_{county_name(county)}")
    if "ledger" in pages_for(current_user_obj().role):
        from workflow.ui import render_ledger

        st.divider()
        render_ledger(driver(), scope, county, current_user_obj())
