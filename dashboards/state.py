"""Streamlit glue: settings, the cached driver, the viewer's scope, language, cached reads.

The driver is a ``st.cache_resource`` (one per server process, created through
``graph.connection.connect(settings)`` when that module exists, else from ``NEO4J_URI``).
Aggregates go through ``st.cache_data`` with a short TTL keyed on the (hashable) Scope, so a
refresh shows up within a minute and two scopes never share a cache entry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st
from neo4j import Driver

from dashboards import data
from dashboards.i18n import LANGUAGES, t
from dashboards.scope import ROLES, Scope
from graph.connection import connect
from riskgraph.divisions import divisions
from riskgraph.settings import Settings, load_settings

T = TypeVar("T")
TTL = 60
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


def current_scope() -> Scope:
    """The scope chosen in the sidebar (city scope by default; sign-in will replace this)."""
    scope = st.session_state.get("scope")
    return scope if isinstance(scope, Scope) else Scope("city", None, None, True, True)


def sidebar() -> Scope:
    """Language and scope pickers in the sidebar; returns the active scope."""
    with st.sidebar:
        st.selectbox(t("app.language", lang()), list(LANGUAGES), key="lang",
                     format_func=lambda code: LANGUAGES[code])
        st.caption(tr("app.scope"))
        role = st.selectbox(tr("app.role"), [r for r in ROLES if r != "operator"],
                            key="scope_role", format_func=lambda r: tr(f"role.{r}"))
        counties: tuple[str, ...] | None = None
        sector = None
        if role == "county":
            pick = st.selectbox(tr("scope.county"), city_counties(), key="scope_county",
                                format_func=county_name)
            counties = (pick,)
        elif role == "sector":
            sectors = cached(data.sectors, Scope("city", None, None, False, False))
            options = [str(s) for s in sectors["sector"]] or ["-"]
            sector = st.selectbox(tr("scope.sector"), options, key="scope_sector")
        scope = Scope(role, counties, sector,
                      can_see_persons=role in ("city", "county", "analyst"),
                      can_see_police_credit=role in ("city", "analyst"))
        st.session_state["scope"] = scope
        st.caption(settings().confidentiality_mark)
    return scope


@st.cache_data(ttl=TTL, show_spinner=False)
def _cached(name: str, scope: Scope, args: tuple[Any, ...], kwargs: tuple[Any, ...]) -> Any:
    fn: Callable[..., Any] = getattr(data, name)
    return fn(driver(), scope, *args, **dict(kwargs))


def cached(fn: Callable[..., T], scope: Scope, *args: Any, **kwargs: Any) -> T:
    """``fn(driver, scope, *args, **kwargs)`` from ``dashboards.data``, cached for TTL s."""
    return _cached(fn.__name__, scope, args, tuple(sorted(kwargs.items())))  # type: ignore


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
