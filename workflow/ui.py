"""Streamlit render functions of the county ledger, mounted by the dashboard.

* :func:`render_ledger` — a county's 风险台账: status filter, overdue mark, an edit form whose
  status choice offers only the allowed next statuses (with a reason code when closing), and
  the entry's history.
* :func:`render_city_progress` — ledger progress per county and the year's 陈案办结率 against
  ``Settings.closure_target``.

Both take the viewer's ``Scope`` (``dashboards.scope``; duck-typed here: ``sees_county``,
``counties``, ``role``) and never show a county outside it. Only the roles ``county`` and
``city`` may edit (:func:`may_edit`); the others see the ledger read-only. Every saved edit is
also written to the audit trail (``security.audit``, action ``ledger_edit``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st
from neo4j import Driver

from riskgraph.divisions import divisions
from riskgraph.errors import RiskgraphError
from riskgraph.settings import Settings, load_settings
from security import audit
from security.roles import role as role_of
from security.users import User
from workflow import ledger
from workflow import statuses as sts

EDIT_ROLES = ("county", "city")
ALL = "全部"
NO_REASON = "（不需要）"
OVERDUE_MARK = "⚠ 逾期"
ACTION_NAMES = {"create": "入账", "edit": "编辑", "status": "状态变更", "city_pass": "市级交办"}


def _sees(scope: Any, county: str) -> bool:
    if hasattr(scope, "sees_county"):
        return bool(scope.sees_county(county))
    counties = getattr(scope, "counties", None)
    return counties is None or county in counties


def _flash() -> None:
    message = st.session_state.pop("wf_flash", None)
    if message:
        st.success(message)


def _table(entries: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame([{
        "主体名称": e.get("name"), "代码": e.get("subject_key"),
        "风险等级": ledger.LEVEL_NAMES.get(str(e.get("last_level") or "none"), ""),
        "状态": e["status"], "逾期": OVERDUE_MARK if e.get("overdue") else "",
        "责任部门": e.get("department"), "责任人": e.get("assignee"),
        "办理期限": e.get("deadline"), "来源": ledger.ORIGIN_NAMES.get(e.get("origin") or "", ""),
    } for e in entries])


def _history_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame([{
        "时间": str(r.get("at"))[:19].replace("T", " "), "操作人": r.get("user"),
        "动作": ACTION_NAMES.get(str(r.get("action")), r.get("action")),
        "变更": "；".join(f"{k}: {v[0] if isinstance(v, list) else ''} → "
                         f"{v[1] if isinstance(v, list) else v}"
                         for k, v in (r.get("changes") or {}).items()),
        "说明": r.get("note"),
    } for r in rows])


def _save(driver: Driver, entry: dict[str, Any], user: Any, edits: dict[str, Any],
          status: str, reason: str | None, note: str) -> None:
    eid = entry["entry_id"]
    changed = {k: v for k, v in edits.items() if (entry.get(k) or "") != v}
    if changed:
        ledger.update_entry(driver, eid, user, changed, version=entry.get("version") or 0,
                            note=note)
    if status != entry["status"]:
        ledger.transition(driver, eid, status, user, reason_code=reason, note=note)
    if changed or status != entry["status"]:
        audit.record(driver, "ledger_edit",
                     user=user if isinstance(user, User) else ledger.user_name(user),
                     target=eid, detail={
                         "county": entry.get("county"), "fields": sorted(changed),
                         "status": [entry["status"], status] if status != entry["status"]
                         else None, "reason_code": reason})


def may_edit(scope: Any, user: Any) -> bool:
    """Editing is for the roles of :data:`EDIT_ROLES` (county offices and the city office);
    a signed-in :class:`security.users.User` must also hold the role's ledger right."""
    if getattr(scope, "role", "county") not in EDIT_ROLES:
        return False
    return not isinstance(user, User) or role_of(user.role).may_edit_ledger


def _edit_form(driver: Driver, entry: dict[str, Any], user: Any) -> None:
    eid = entry["entry_id"]
    options = [entry["status"], *sts.next_statuses(entry["status"])]
    reasons = {NO_REASON: None} | {f"{label}（{code}）": code
                                   for code, (label, _) in sts.REASONS.items()}
    with st.form(key=f"wf_form_{eid}"):
        status = st.selectbox("状态（仅可选允许的下一状态）", options, key=f"wf_status_{eid}")
        reason_label = st.selectbox("原因（办结、排除或重新核查时必填）", list(reasons),
                                    key=f"wf_reason_{eid}")
        edits = {
            "department": st.text_input("责任部门", entry.get("department") or "",
                                        key=f"wf_dept_{eid}"),
            "assignee": st.text_input("责任人", entry.get("assignee") or "",
                                      key=f"wf_assignee_{eid}"),
            "leader": st.text_input("分管领导", entry.get("leader") or "",
                                    key=f"wf_leader_{eid}"),
            "plan": st.text_area("一企一策", entry.get("plan") or "", key=f"wf_plan_{eid}"),
            "deadline": st.text_input("办理期限（YYYY-MM-DD）", entry.get("deadline") or "",
                                      key=f"wf_deadline_{eid}"),
            "notes": st.text_area("备注", entry.get("notes") or "", key=f"wf_notes_{eid}"),
        }
        note = st.text_input("变更说明", "", key=f"wf_note_{eid}")
        submitted = st.form_submit_button("保存", key=f"wf_save_{eid}")
    if submitted:
        try:
            _save(driver, entry, user, edits, status, reasons[reason_label], note)
        except RiskgraphError as exc:
            st.error(f"{exc.message}" + (f"（{exc.hint}）" if exc.hint else ""))
            return
        st.cache_data.clear()  # the app's cached tables (e.g. the risk list's ledger status)
        st.session_state["wf_flash"] = "已保存"
        st.rerun()


def render_ledger(driver: Driver, scope: Any, county: str, user: Any) -> None:
    """A county's risk ledger: filter, table with overdue marks, edit form, history."""
    name = divisions().name(county) or county
    st.subheader(f"{name}风险台账")
    if not _sees(scope, county):
        st.warning("无权查看该县区的风险台账。")
        return
    _flash()
    today = date.today().isoformat()
    col1, col2 = st.columns(2)
    status = col1.selectbox("状态筛选", [ALL, *sts.STATUSES], key=f"wf_filter_{county}")
    only_overdue = col2.checkbox("仅看逾期", key=f"wf_overdue_{county}")
    entries = ledger.list_entries(driver, [county], None if status == ALL else status,
                                  today=today)
    if only_overdue:
        entries = [e for e in entries if e["overdue"]]
    overdue = sum(1 for e in entries if e["overdue"])
    st.caption(f"共 {len(entries)} 项，其中逾期 {overdue} 项")
    if not entries:
        st.info("台账暂无符合条件的记录。")
        return
    st.dataframe(_table(entries), hide_index=True, placeholder="—", width="stretch")
    by_id = {e["entry_id"]: e for e in entries}
    chosen = st.selectbox("选择条目", list(by_id), key=f"wf_entry_{county}",
                          format_func=lambda k: f"{by_id[k].get('name')}（{by_id[k]['status']}"
                          + (f"，{OVERDUE_MARK}）" if by_id[k]["overdue"] else "）"))
    entry = by_id[chosen]
    if entry["overdue"]:
        st.warning(f"{OVERDUE_MARK}：办理期限 {entry.get('deadline')} 已过，尚未办结。")
    if may_edit(scope, user):
        _edit_form(driver, entry, user)
    else:
        st.info("当前角色只读。")
    with st.expander("变更记录", expanded=True):
        st.dataframe(_history_table(ledger.history(driver, chosen)), hide_index=True,
                     placeholder="—",
                     width="stretch")


def render_city_progress(driver: Driver, scope: Any, year: int,
                         settings: Settings | None = None) -> None:
    """Ledger progress per county and the year's 陈案办结率 against the closure target.

    ``settings`` defaults to :func:`load_settings` (the app is an edge); it gives the city and
    ``closure_target``.
    """
    cfg = settings or load_settings()
    reg = divisions()
    counties = [c.code for c in reg.counties(cfg.city) if _sees(scope, c.code)]
    st.subheader(f"{year}年风险台账进展")
    if not counties:
        st.warning("当前范围内没有县区。")
        return
    progress = ledger.county_progress(driver, counties)
    closure = ledger.old_case_closure(driver, counties, year)
    target = cfg.closure_target
    rows = []
    for code in counties:
        p, c = progress[code], closure[code]
        rows.append({
            "县区": reg.name(code), "在管": p["total"], **{s: p[s] for s in sts.STATUSES},
            "逾期": p["overdue"], "陈案": int(c["old_cases"]), "年内办结": int(c["closed"]),
            "陈案办结率": f"{c['rate']:.1%}",
            "达标": "✓" if c["old_cases"] and c["rate"] >= target else
            ("—" if not c["old_cases"] else "✗"),
        })
    old = sum(closure[c]["old_cases"] for c in counties)
    closed = sum(closure[c]["closed"] for c in counties)
    rate = closed / old if old else 0.0
    col1, col2, col3 = st.columns(3)
    col1.metric("陈案办结率", f"{rate:.1%}", f"{(rate - target) * 100:+.1f} 个百分点（对目标）")
    col2.metric("目标", f"{target:.0%}")
    col3.metric("逾期未办结", sum(progress[c]["overdue"] for c in counties))
    st.dataframe(pd.DataFrame(rows), hide_index=True, placeholder="—", width="stretch")
