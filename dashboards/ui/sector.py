"""Sector view (行业主管部门): the flagged enterprises of one sector across the city."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from dashboards import data
from dashboards.state import cached, current_scope, tr
from dashboards.ui.common import run_banner
from dashboards.ui.county import enterprise_table


def render() -> None:
    """The sector page."""
    scope = current_scope()
    st.title(tr("page.sector"))
    if run_banner(scope) is None:
        return
    sectors = cached(data.sectors, scope)
    options = [str(s) for s in sectors["sector"]]
    if scope.sector is not None:
        options = [scope.sector]
    if not options:
        st.info(tr("sector.none"))
        return
    counts = dict(zip(sectors["sector"], sectors["n"], strict=True))
    sector = st.selectbox(tr("sector.pick"), options, key="sector_select",
                          format_func=lambda s: f"{s} ({counts.get(s, 0)})")
    frame = cached(data.enterprises, replace(scope, sector=sector))
    enterprise_table(frame, "sector", f"行业清单_{sector}", sector_filter=False)
