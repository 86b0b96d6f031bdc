"""Streamlit glue: settings, the cached driver, sign-in and the signed-in user's scope,
the audit helper, language, cached reads.

Sign-in (``security.auth``) runs in ``app.py`` before the navigation on every run; the pages
read the user and scope it stored (:func:`current_scope`, :func:`current_user_obj`) and stop
when there is none. ``RISKGRAPH_AUTH=none`` (development only, set explicitly) replaces the
sign-in with a role picker.

The driver is a ``st.cache_resource`` (one per server process, created through
``graph.connection.connect(settings)`` when that module exists, else from ``NEO4J_URI``).
Reads go through ``st.cache_data`` (:func:`cached`) keyed on the (hashable) Scope and the live
run id (looked up every ``RUN_TTL`` seconds): two scopes never share an entry, a refresh shows
up within seconds, and within one run the results are kept for ``TTL`` seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st
from neo4j import Driver

from dashboards import data
from dashboards.i18n import LANGUAGES, t
from dashboards.scope import Scope
from graph.connection import connect
from riskgraph.divisions import divisions
from riskgraph.settings import Settings, load_settings
from security import audit as audit_mod
from security.auth import SESSION_KEY, current_user, load_auth_settings, sign_out
from security.roles import Role
from security.roles import role as role_of
from security.scope import scope_for
from security.users import User

T = TypeVar("T")
TTL = 300
"""Seconds a cached read of one scope and live run is kept (ledger edits clear it)."""
RUN_TTL = 10
"""Seconds before the live run is looked up again: a refresh shows within this time."""
logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    """Settings read once per server process."""
    return load_settings()


@st.cache_resource(show_spinner=False)
def driver() -> Driver:
    """The one Neo4j driver of the app (``graph.connection.connect``)."""
    return connect(settings())


def lang() -> str:
    """The selected language (``zh`` default)."""
    return str(st.session_state.get("lang", "zh"))


def tr(key: str, **fmt: Any) -> str:
    """Translate ``key`` into the selected language."""
    return t(key, lang(), **fmt)


def county_name(code: str | None) -> str:
    """Chinese name of a county code (the code when unknown)."""
    return divisions().name(code) if code else ""


def city_counties() -> list[str]:
    """County codes of the served city (incl. development zones)."""
    return [d.code for d in divisions().counties(settings().city)]


USER_KEY = "_rg_user"
SCOPE_KEY = "_rg_scope"
AUDITED_KEY = "_rg_audited"
PAGE_KEY = "_rg_page"
ROLE_PAGES: dict[str, tuple[str, ...]] = {
    "city": ("city", "county", "ledger", "sector", "search", "profile", "person", "cross",
             "runs"),
    "county": ("county", "ledger", "search", "profile", "person", "cross", "runs"),
    "sector": ("sector", "search", "profile", "cross"),
    "analyst": ("city", "county", "sector", "search", "profile", "person", "cross", "runs"),
    "admin": ("admin", "runs"),
}
"""The pages each role gets in the navigation (a page not listed is not reachable)."""


def _dev_user() -> User:
    """``RISKGRAPH_AUTH=none`` (development and demonstrations only): a role picker instead of
    the sign-in. The user is ``dev-<role>``; scope and masking follow the role as usual."""
    from security.roles import ROLES as ROLE_TABLE
    from security.roles import sector_names

    with st.sidebar:
        st.warning(tr("auth.dev_mode"))
        role = st.selectbox(tr("app.role"), list(ROLE_TABLE), key="dev_role",
                            format_func=lambda r: tr(f"role.{r}"))
        counties: tuple[str, ...] = ()
        sector = None
        if role == "county":
            counties = (st.selectbox(tr("scope.county"), city_counties(), key="dev_county",
                                     format_func=county_name),)
        elif role == "sector":
            sector = st.selectbox(tr("scope.sector"), list(sector_names()), key="dev_sector")
    return User(f"dev-{role}", role, counties, sector)


def has_session() -> bool:
    """True when this browser session holds a sign-in (or sign-in is off, ``none``)."""
    return bool(st.session_state.get(SESSION_KEY)) or load_auth_settings().mode == "none"


def sign_in() -> tuple[User, Scope]:
    """The signed-in user and scope (``security.auth.current_user``); draws the sign-in and
    stops the run when nobody is signed in. Called by ``app.py`` before the navigation, on
    every run, so every page's scope comes from the signed-in account."""
    auth = load_auth_settings()
    if auth.mode == "none":
        user = _dev_user()
        scope = scope_for(user)
    else:
        user, scope = current_user(settings(), driver(), auth)
    st.session_state[USER_KEY] = user
    st.session_state[SCOPE_KEY] = scope
    return user, scope


def current_user_obj() -> User:
    """The signed-in user of this run (set by :func:`sign_in`); stops the page otherwise."""
    user = st.session_state.get(USER_KEY)
    if not isinstance(user, User):
        st.stop()
    return user  # type: ignore[no-any-return]


def current_scope() -> Scope:
    """The signed-in user's scope (set by :func:`sign_in` on every run). Without one the page
    stops: nothing is shown to an anonymous visitor (fail closed)."""
    scope = st.session_state.get(SCOPE_KEY)
    if not isinstance(scope, Scope):
        st.stop()
    return scope  # type: ignore[no-any-return]


def role_spec() -> Role:
    """What the signed-in user's role may do (``security.roles``)."""
    return role_of(current_user_obj().role)


def pages_for(role: str) -> tuple[str, ...]:
    """The pages of ``role`` (none for an unknown role)."""
    return ROLE_PAGES.get(role, ())


def new_page(url: str) -> None:
    """Called by ``app.py`` with the page about to run: a different page than the last run
    starts a new view, so looking again at the same enterprise is audited again."""
    if st.session_state.get(PAGE_KEY) != url:
        st.session_state[PAGE_KEY] = url
        st.session_state[AUDITED_KEY] = {}


def audit(action: str, target: str = "", detail: dict[str, Any] | None = None, *,
          once: bool = True) -> None:
    """Append an audit event for the signed-in user (``security.audit.record``). With
    ``once``, the same action on the same target is recorded once per page view (widget
    reruns do not repeat it); exports and refusals pass ``once=False``."""
    user = current_user_obj()
    seen: dict[str, str] = st.session_state.setdefault(AUDITED_KEY, {})
    fingerprint = f"{target}|{sorted((detail or {}).items())}"
    if once and seen.get(action) == fingerprint:
        return
    audit_mod.record(driver(), action, user=user, target=target, detail=detail)
    seen[action] = fingerprint


def deny(target: str, detail: dict[str, Any], message: str | None = None) -> None:
    """Refuse: a warning, and an ``access_denied`` audit row (e.g. a tampered URL)."""
    audit("access_denied", target, detail, once=False)
    st.warning(message or tr("auth.denied"))


def language_picker() -> None:
    """The language picker (sidebar), drawn before the sign-in so it is there too."""
    with st.sidebar:
        st.selectbox(t("app.language", lang()), list(LANGUAGES), key="lang",
                     format_func=lambda code: LANGUAGES[code])


def sidebar(user: User | None = None) -> None:
    """The signed-in user with a sign-out button, and the confidentiality mark."""
    with st.sidebar:
        if user is not None:
            where = "、".join(county_name(c) for c in user.counties) or user.sector or ""
            st.caption(tr("auth.signed_in", user=user.username,
                          role=tr(f"role.{user.role}")) + (f" · {where}" if where else ""))
            if not user.username.startswith("dev-") and st.button(tr("auth.sign_out"),
                                                                 key="sign_out"):
                sign_out(driver(), user)
                for key in (USER_KEY, SCOPE_KEY, AUDITED_KEY, PAGE_KEY):
                    st.session_state.pop(key, None)
                st.rerun()
        st.caption(settings().confidentiality_mark)


@st.cache_data(ttl=RUN_TTL, show_spinner=False)
def live_run_id() -> str | None:
    """The live run's id, re-read at most every RUN_TTL seconds (the key of the caches)."""
    return data.live_run_id(driver())


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=2000)
def _cached(name: str, scope: Scope, run_id: str | None, args: tuple[Any, ...],
            kwargs: tuple[Any, ...]) -> Any:
    del run_id  # part of the key only: a new live run is a new cache entry
    fn: Callable[..., Any] = getattr(data, name)
    return fn(driver(), scope, *args, **dict(kwargs))


def cached(fn: Callable[..., T], scope: Scope, *args: Any, **kwargs: Any) -> T:
    """``fn(driver, scope, *args, **kwargs)`` from ``dashboards.data``, cached per scope and
    live run for TTL s (a new run shows within RUN_TTL s)."""
    return _cached(fn.__name__, scope, live_run_id(), args,  # type: ignore[no-any-return]
                   tuple(sorted(kwargs.items())))


def live_runs(scope: Scope) -> data.Runs:
    """The live and previous run (cached)."""
    return cached(data.runs, scope)


def open_profile(uscc: str) -> None:
    """Go to the enterprise profile of ``uscc``."""
    st.session_state["uscc"] = uscc
    st.query_params["uscc"] = uscc
    st.switch_page("views/profile.py")


def open_person(pid: str) -> None:
    """Go to the person profile of ``pid``."""
    st.session_state["pid"] = pid
    st.switch_page("views/person.py")


def open_county(code: str) -> None:
    """Go to the county list of ``code``."""
    st.session_state["county"] = code
    st.switch_page("views/county.py")
