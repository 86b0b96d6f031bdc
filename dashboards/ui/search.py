"""Search: enterprise name (normalised, partial), USCC / 注册号, person name or masked ID.
Scoped in the data layer; every search is audited (the text verbatim, as data)."""

from __future__ import annotations

import streamlit as st

from dashboards import data
from dashboards.state import audit, cached, current_scope, open_person, open_profile, tr
from dashboards.ui.common import localise, with_labels


def render() -> None:
    """The search page."""
    scope = current_scope()
    st.title(tr("page.search"))
    text = st.text_input(tr("search.box"), key="search_text")
    if not text.strip():
        return
    found = cached(data.search, scope, text.strip())
    ents, persons = found["enterprises"], found["persons"]
    audit("search", text.strip(), {"enterprises": len(ents), "persons": len(persons)})
    st.subheader(tr("search.enterprises"))
    if ents.empty:
        st.caption(tr("search.none"))
    else:
        st.dataframe(localise(with_labels(ents), {"name": "col.name", "uscc": "col.uscc",
                                                  "county": "col.county", "score": "col.score",
                                                  "level": "col.level"}),
                     hide_index=True, placeholder="—", width="stretch")
        names = dict(zip(ents["uscc"], ents["name"], strict=True))
        cols = st.columns([4, 1])
        pick = cols[0].selectbox(tr("county.pick_enterprise"), list(ents["uscc"]),
                                 format_func=lambda u: f"{names.get(u)} ({u})",
                                 key="search_pick")
        if cols[1].button(tr("county.open"), key="search_open"):
            open_profile(str(pick))
    st.subheader(tr("search.persons"))
    if not scope.can_see_persons:
        st.caption(tr("search.persons_hidden"))
    elif persons.empty:
        st.caption(tr("search.none"))
    else:
        st.dataframe(localise(with_labels(persons), {
            "name": "col.name", "id_masked": "col.id_masked", "region": "col.region",
            "firms": "col.firms"}), hide_index=True, placeholder="—", width="stretch")
        labels = {p: f"{n} ({m})" if isinstance(m, str) and m else str(n)
                  for p, n, m in zip(persons["pid"], persons["name"], persons["id_masked"],
                                     strict=True)}
        cols = st.columns([4, 1])
        pid = cols[0].selectbox(tr("search.pick_person"), list(persons["pid"]),
                                format_func=lambda p: labels.get(p, p), key="person_pick")
        if cols[1].button(tr("search.open_person"), key="person_open"):
            open_person(str(pid))
