"""The riskgraph Streamlit app: ``riskgraph serve`` runs ``streamlit run dashboards/app.py``.

Multipage through ``st.navigation``; page scripts live in ``dashboards/views/`` and call the
page bodies of ``dashboards/ui/``. zh-CN by default, English in the sidebar.
"""

from __future__ import annotations

import streamlit as st

from dashboards.state import sidebar, tr

st.set_page_config(page_title=tr("app.title"), page_icon=":material/shield:", layout="wide")

PAGES = [
    ("views/city.py", "page.city", ":material/map:", "city"),
    ("views/county.py", "page.county", ":material/list_alt:", "county"),
    ("views/sector.py", "page.sector", ":material/category:", "sector"),
    ("views/search.py", "page.search", ":material/search:", "search"),
    ("views/profile.py", "page.profile", ":material/business:", "profile"),
    ("views/person.py", "page.person", ":material/person:", "person"),
    ("views/cross_region.py", "page.cross", ":material/hub:", "cross"),
    ("views/runs.py", "page.runs", ":material/schedule:", "runs"),
]

navigation = st.navigation([
    st.Page(path, title=tr(key), icon=icon, url_path=url, default=(url == "city"))
    for path, key, icon, url in PAGES
])
sidebar()
navigation.run()
