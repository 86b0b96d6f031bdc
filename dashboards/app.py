"""The riskgraph Streamlit app: ``riskgraph serve`` runs ``streamlit run dashboards/app.py``.

Multipage through ``st.navigation``; page scripts live in ``dashboards/views/`` and call the
page bodies of ``dashboards/ui/``. zh-CN by default, English in the sidebar.
"""

from __future__ import annotations

import streamlit as st

from dashboards.state import sidebar, tr

# No page icons: Streamlit turns a ":material/…:" icon into a favicon fetched from
# fonts.gstatic.com, and the app must load nothing from outside.
st.set_page_config(page_title=tr("app.title"), layout="wide")

PAGES = [
    ("views/city.py", "page.city", "city"),
    ("views/county.py", "page.county", "county"),
    ("views/sector.py", "page.sector", "sector"),
    ("views/search.py", "page.search", "search"),
    ("views/profile.py", "page.profile", "profile"),
    ("views/person.py", "page.person", "person"),
    ("views/cross_region.py", "page.cross", "cross"),
    ("views/runs.py", "page.runs", "runs"),
]

navigation = st.navigation([
    st.Page(path, title=tr(key), url_path=url, default=(url == "city"))
    for path, key, url in PAGES
])
sidebar()
navigation.run()
