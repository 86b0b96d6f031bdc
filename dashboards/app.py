"""The riskgraph Streamlit app: ``riskgraph serve`` runs ``streamlit run dashboards/app.py``.

Every run signs in first (``security.auth.current_user`` through
:func:`dashboards.state.sign_in`): an anonymous visitor sees only the sign-in, never a page.
The navigation (``st.navigation``) then lists only the pages of the user's role
(:data:`dashboards.state.ROLE_PAGES`), and every page reads its scope from the signed-in user.
Page scripts live in ``dashboards/views/`` and call the page bodies of ``dashboards/ui/``.
zh-CN by default, English in the sidebar.
"""

from __future__ import annotations

import streamlit as st

from dashboards.state import (
    has_session,
    language_picker,
    new_page,
    pages_for,
    sidebar,
    sign_in,
    tr,
)

# No page icons: Streamlit turns a ":material/…:" icon into a favicon fetched from
# fonts.gstatic.com, and the app must load nothing from outside.
st.set_page_config(page_title=tr("app.title"), layout="wide")

PAGES = {
    "city": ("views/city.py", "page.city"),
    "county": ("views/county.py", "page.county"),
    "ledger": ("views/ledger.py", "page.ledger"),
    "sector": ("views/sector.py", "page.sector"),
    "search": ("views/search.py", "page.search"),
    "profile": ("views/profile.py", "page.profile"),
    "person": ("views/person.py", "page.person"),
    "cross": ("views/cross_region.py", "page.cross"),
    "runs": ("views/runs.py", "page.runs"),
    "admin": ("views/admin.py", "page.admin"),
}

language_picker()
if not has_session():
    # Before the sign-in, register every page hidden (none of them runs): the page asked for
    # in the URL (e.g. /profile?uscc=…) is kept, and shown after the sign-in if the role has it.
    st.navigation([st.Page(path, title=tr(key), url_path=url, default=(url == "city"))
                   for url, (path, key) in PAGES.items()], position="hidden")
user, scope = sign_in()  # stops here (showing the sign-in) until someone is signed in
allowed = pages_for(user.role)
navigation = st.navigation([
    st.Page(PAGES[url][0], title=tr(PAGES[url][1]), url_path=url, default=(i == 0))
    for i, url in enumerate(allowed)
])
new_page(navigation.url_path)
sidebar(user)
navigation.run()
