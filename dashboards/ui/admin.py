"""Administration (系统管理员): the local accounts and the audit trail.

Read-only: accounts are added and disabled with ``riskgraph users …`` (each change audited),
and the audit trail cannot be edited through the app — there is no control here (or anywhere
in the app) that changes or deletes an audit event. The administrator can filter the
trail and export it as CSV (``security.audit.export_audit``; the export itself is audited as
``audit_export``)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboards.state import audit, current_user_obj, deny, driver, role_spec, tr
from dashboards.ui.common import Download
from security import audit as audit_mod
from security import users


def _users() -> None:
    st.subheader(tr("admin.users"))
    rows = [{"username": u.username, "role": tr(f"role.{u.role}"),
             "counties": ",".join(u.counties), "sector": u.sector or "",
             "email": u.email or "", "disabled": tr("yes") if u.disabled else "",
             "created": u.created[:19].replace("T", " ")} for u in users.list_users(driver())]
    st.dataframe(pd.DataFrame(rows), hide_index=True, placeholder="—", width="stretch")
    st.caption(tr("admin.users_cli"))


def audit_csv() -> list[Download]:
    """The whole audit trail as CSV (formula-like cells neutralised)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "audit.csv"
        audit_mod.export_audit(driver(), path)
        content = path.read_bytes()
    return [(tr("admin.audit_download"), content, "riskgraph_audit.csv", "text/csv")]


def _audit() -> None:
    st.subheader(tr("admin.audit"))
    cols = st.columns(3)
    who = cols[0].text_input(tr("admin.filter_user"), key="audit_user").strip() or None
    action = cols[1].selectbox(tr("admin.filter_action"), ["", *sorted(audit_mod.ACTIONS)],
                               key="audit_action") or None
    limit = int(cols[2].number_input(tr("admin.limit"), 10, 5000, 200, key="audit_limit"))
    rows = audit_mod.events(driver(), user=who, action=action, limit=limit)
    st.dataframe(pd.DataFrame(rows, columns=list(audit_mod.FIELDS)), hide_index=True,
                 placeholder="—",
                 width="stretch")
    if st.button(tr("admin.audit_export"), key="audit_export_prepare"):
        audit("audit_export", "audit.csv", {"rows": "all"}, once=False)
        st.session_state["_rg_audit_csv"] = audit_csv()
    files = st.session_state.get("_rg_audit_csv")
    if files:
        label, content, name, mime = files[0]
        st.download_button(label, data=content, file_name=name, mime=mime,
                           key="audit_download")


def render() -> None:
    """The admin page."""
    st.title(tr("page.admin"))
    spec = role_spec()
    if not (spec.may_manage_users or spec.may_read_audit):
        deny("admin", {"page": "admin", "role": current_user_obj().role})
        return
    _users()
    _audit()
