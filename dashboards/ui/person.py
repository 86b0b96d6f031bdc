"""Person profile: the person's roles across firms (firms outside the scope masked)."""

from __future__ import annotations

import streamlit as st

from dashboards import data
from dashboards.state import (
    audit,
    cached,
    county_name,
    current_scope,
    deny,
    open_profile,
    tr,
)
from dashboards.ui.common import localise, with_labels


def render() -> None:
    """The person page."""
    scope = current_scope()
    pid = st.query_params.get("pid") or st.session_state.get("pid")
    found = cached(data.person, scope, str(pid)) if pid else None
    if found is None:
        st.title(tr("page.person"))
        if pid:  # unknown, outside the scope, or a role without persons: refused, audited
            deny(str(pid), {"param": "pid", "page": "person"}, tr("person.not_found"))
        else:
            st.info(tr("person.not_found"))
        return
    audit("view_person", str(pid))
    person = found["person"]
    st.title(str(person.get("name") or person.get("name_masked")))
    facts = [str(person.get("id_masked") or ""), county_name(person.get("region"))]
    if any(facts):
        st.caption(" · ".join(f for f in facts if f))
    roles = found["roles"]
    shown = roles.assign(
        rel=roles["rel"].map(lambda r: tr(f"rel.{r}")),
        name=[n if v else tr("scope.outside") for n, v in zip(roles["name"], roles["visible"],
                                                              strict=True)])
    st.subheader(tr("person.roles"))
    if shown["ended"].notna().any():
        st.caption(tr("person.ended_roles"))
    st.dataframe(localise(with_labels(shown), {
        "name": "col.name", "uscc": "col.uscc", "rel": "col.rel", "role": "col.role",
        "ratio": "col.share", "ended": "col.ended_on", "county": "col.county",
        "score": "col.score", "level": "col.level"}), hide_index=True, placeholder="—",
        width="stretch")
    visible = roles[roles["visible"] & roles["uscc"].notna()].drop_duplicates("uscc")
    if not visible.empty:
        names = dict(zip(visible["uscc"], visible["name"], strict=True))
        cols = st.columns([4, 1])
        pick = cols[0].selectbox(tr("county.pick_enterprise"), list(visible["uscc"]),
                                 format_func=lambda u: f"{names.get(u)} ({u})",
                                 key="person_firm")
        if cols[1].button(tr("county.open"), key="person_firm_open"):
            open_profile(str(pick))
