"""Streamlit render functions of the county ledger, mounted by the dashboard.

* :func:`render_ledger` — a county's 风险台账: status filter, overdue mark, an edit form whose
  status choice offers only the allowed next statuses (with a reason code when closing), and
  the entry's history.
* :func:`render_city_progress` — ledger progress per county and the year's 陈案办结率 against
  ``Settings.closure_target``.
* :func:`render_pass_down` — the city's form to pass an enterprise or a group (a city-level
  clue) down to a county's ledger (市级交办).
* :func:`render_handoff_control` — a cross-region group's hand-off status, the moves the viewer
  may make, and its history.

They take the viewer's ``Scope`` (``dashboards.scope``; duck-typed here: ``sees_county``,
``counties``, ``role``) and never show a county outside it. Only the county role edits a
county's entries (:func:`may_edit`; the city leading group reads them, passes clues down and
advances hand-offs); the data layer checks the same rules again (:mod:`workflow.permissions`).
Every saved edit is also written to the audit trail (``security.audit``, action
``ledger_edit``; pass-downs and hand-off moves are audited by the data layer).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st
from neo4j import Driver

from riskgraph.divisions import divisions
from riskgraph.errors import RejectedError, RiskgraphError
from riskgraph.settings import Settings, load_settings
from security import audit
from security.roles import role as role_of
from security.users import User
from workflow import handoff, ledger
from workflow import permissions as perms
from workflow import statuses as sts

EDIT_ROLES = ("county",)
ALL = "全部"
NO_REASON = "（不需要）"
OVERDUE_MARK = "⚠ 逾期"
AUTO_COUNTY = ""
ACTION_NAMES = {"create": "入账", "edit": "编辑", "status": "状态变更", "city_pass": "市级交办",
                "handoff": "移交状态"}
FIELD_NAMES = {**ledger.EDITABLE, "status": "状态", "reason_code": "原因",
               "city_passed": "市级交办", "passed_at": "交办时间", "passed_by": "交办人",
               "pass_note": "交办说明", "handoff_status": "移交状态", "lead": "主办地区"}
KIND_NAMES = {"enterprise": "企业（统一社会信用代码）", "group": "关联企业群（群组编号）"}


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
        "办理期限": e.get("deadline"), "来源": _origin(e),
    } for e in entries])


def _origin(entry: dict[str, Any]) -> str:
    origin = ledger.ORIGIN_NAMES.get(entry.get("origin") or "", "")
    if entry.get("city_passed") and entry.get("origin") != "city":
        origin += "，市级交办"
    return origin


def _change_text(key: str, value: Any) -> str:
    name = FIELD_NAMES.get(key, key)
    if isinstance(value, list) and len(value) == 2:
        old, new = value
        if key == "handoff_status":
            old, new = handoff.HANDOFF_NAMES.get(str(old), old), handoff.HANDOFF_NAMES.get(
                str(new), new)
        if key == "reason_code":
            return f"{name}: {sts.REASONS.get(str(new), (new or '',))[0]}" if new else ""
        return f"{name}: {'' if old is None else old} → {'' if new is None else new}"
    if key == "reason_code":
        return f"{name}: {sts.REASONS.get(str(value), (value or '',))[0]}" if value else ""
    if key == "lead":
        return f"{name}: {divisions().name(str(value)) or value}" if value else ""
    return f"{name}: {value}"


def _history_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame([{
        "时间": str(r.get("at"))[:19].replace("T", " "), "操作人": r.get("user"),
        "动作": ACTION_NAMES.get(str(r.get("action")), r.get("action")),
        "变更": "；".join(t for t in (_change_text(k, v) for k, v in
                                      (r.get("changes") or {}).items()) if t),
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


def may_edit(scope: Any, user: Any, county: str) -> bool:
    """Editing is for the roles of :data:`EDIT_ROLES` (the county office, for its own
    counties); a signed-in :class:`security.users.User` must also pass the data layer's check
    (:func:`workflow.permissions.may_edit`)."""
    if getattr(scope, "role", "county") not in EDIT_ROLES or not _sees(scope, county):
        return False
    return not isinstance(user, User) or (role_of(user.role).may_edit_ledger
                                          and perms.may_edit(user, county))


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
    if entry.get("city_passed") or entry.get("origin") == "city":
        st.info(f"市级交办（{str(entry.get('passed_at') or entry.get('created_at'))[:10]}，"
                f"{entry.get('passed_by') or entry.get('created_by') or ''}）："
                f"{entry.get('pass_note') or '请按期核查并反馈办理结果'}")
    if may_edit(scope, user, county):
        _edit_form(driver, entry, user)
    elif getattr(scope, "role", "") == "city":
        st.info("当前角色只读：县区台账由县区处非办编辑（属地管理）；市级可在城市总览页交办线索、"
                "在跨区域案件页推进移交。")
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


# --- city: pass a clue down (市级交办) ------------------------------------------------------


def _pass_down(driver: Driver, user: Any, kind: str, key: str, county: str, city: str,
               deadline: str, note: str) -> str:
    """Pass ``key`` down; returns the flash message. ``county`` empty: the subject's own."""
    key = key.strip()
    if not key:
        raise RejectedError("请填写统一社会信用代码或群组编号", "")
    target = county or ledger.home_county(driver, kind, key, city)
    if not target:
        raise RejectedError(f"无法确定 {key} 的属地县区", "请在“交办县区”中选择县区")
    entry = ledger.pass_down(driver, target, kind, key, user, note=note.strip() or None,
                             deadline=deadline.strip() or None)
    return f"已交办：{entry.get('name')} → {divisions().name(target) or target}"


def render_pass_down(driver: Driver, scope: Any, user: Any,
                     settings: Settings | None = None) -> None:
    """The city's 市级交办 form: an enterprise (USCC) or a group (group id) passed down to a
    county's ledger, by default the subject's own county (an enterprise's 属地, a group's lead
    region). Shown only to a viewer who may pass clues down."""
    if getattr(scope, "role", "") != "city" or not perms.may_pass_down(user):
        return
    cfg = settings or load_settings()
    counties = [c.code for c in divisions().counties(cfg.city)]
    st.subheader("市级交办线索")
    st.caption("将市级发现的企业或关联企业群交办至县区风险台账，县区处非办核查后在台账中反馈，"
               "县区月报列明办理结果。")
    message = st.session_state.pop("wf_pass_flash", None)
    if message:
        st.success(message)
    with st.form(key="wf_pass_form"):
        kind = st.radio("交办对象", list(KIND_NAMES), format_func=KIND_NAMES.__getitem__,
                        horizontal=True, key="wf_pass_kind")
        key = st.text_input("统一社会信用代码或群组编号", key="wf_pass_key")
        county = st.selectbox("交办县区", [AUTO_COUNTY, *counties], key="wf_pass_county",
                              format_func=lambda c: divisions().name(c) or c if c else
                              "按属地（企业登记县区 / 群组主办地区）")
        deadline = st.text_input("办理期限（YYYY-MM-DD，可空）", key="wf_pass_deadline")
        note = st.text_area("交办说明", key="wf_pass_note")
        submitted = st.form_submit_button("交办", key="wf_pass_submit")
    if submitted:
        try:
            message = _pass_down(driver, user, kind, key, county, cfg.city, deadline, note)
        except RiskgraphError as exc:
            st.error(f"{exc.message}" + (f"（{exc.hint}）" if exc.hint else ""))
            return
        st.session_state["wf_pass_flash"] = message
        st.rerun()


# --- cross-region hand-off status -----------------------------------------------------------


def render_handoff_control(driver: Driver, user: Any, group_id: str, *,
                           show_status: bool = True) -> None:
    """The group's hand-off status, a form with the moves the viewer may make (the city: all
    declared moves; the lead county: accept, return, close) and the hand-off history.
    A group without a package yet (status ``none``) starts with the package itself."""
    from graph import access, cypher

    found = access.read(driver, cypher.wf_group(), {"group_id": group_id})
    if not found:
        st.warning(f"无此群组：{group_id}")
        return
    grp = found[0]["grp"]
    status = grp.get("handoff_status") or "none"
    lead = grp.get("handoff_lead") or grp.get("lead_region")
    message = st.session_state.pop("wf_handoff_flash", None)
    if message:
        st.success(message)
    if show_status:
        st.markdown(f"**移交状态：{handoff.HANDOFF_NAMES.get(status, status)}**"
                    f"（主办地区：{divisions().name(str(lead)) or lead or '—'}）")
    moves = handoff.allowed_moves(user, status, lead) if status != "none" else []
    if status == "none":
        st.caption("尚未生成移交材料：市处非办生成移交材料后状态为“草拟”。")
    elif moves:
        with st.form(key=f"wf_handoff_form_{group_id}"):
            target = st.selectbox("推进至", moves, key=f"wf_handoff_to_{group_id}",
                                  format_func=lambda t: handoff.HANDOFF_NAMES.get(t, t))
            note = st.text_input("说明", key=f"wf_handoff_note_{group_id}")
            submitted = st.form_submit_button("更新移交状态", key=f"wf_handoff_save_{group_id}")
        if submitted:
            try:
                handoff.set_handoff_status(driver, group_id, target, user, note=note or None)
            except RiskgraphError as exc:
                st.error(f"{exc.message}" + (f"（{exc.hint}）" if exc.hint else ""))
                return
            st.cache_data.clear()  # boards read the status through cached queries
            st.session_state["wf_handoff_flash"] = \
                f"移交状态已更新为：{handoff.HANDOFF_NAMES.get(target, target)}"
            st.rerun()
    elif handoff.next_handoff_statuses(status):
        st.caption("当前角色不能推进该移交：市处非办推进各环节，主办县区可接收、退回或办结。")
    rows = handoff.handoff_history(driver, group_id)
    if rows:
        with st.expander("移交记录", expanded=False):
            st.dataframe(_history_table(rows), hide_index=True, width="stretch")
