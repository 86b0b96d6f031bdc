"""Sign-in for the Streamlit app: :func:`current_user` returns the signed-in User and Scope.

Modes, chosen by ``RISKGRAPH_AUTH`` (read at the edge by :func:`load_auth_settings`):

* ``local`` (default): a username/password form checked against the local ``User`` nodes
  (:func:`security.users.verify`, scrypt, lockout after ``RISKGRAPH_AUTH_MAX_FAILURES`` failures
  for ``RISKGRAPH_AUTH_LOCKOUT_MINUTES``). The session keeps only the username and sign-in time;
  the account is re-read on every run, so disabling a user takes effect at once.
* ``oidc``: Streamlit's ``st.login`` / ``st.user`` with the provider configured in
  ``.streamlit/secrets.toml`` (``[auth]`` section, see ``docs/security.md``). The identity is
  mapped to a local User by e-mail, then by ``preferred_username``; identities without an
  enabled local account are refused. Roles and counties always come from the local account.
* ``none``: no sign-in, for development and demonstrations only, and only when set
  explicitly; the app then offers a role picker in the sidebar (``dashboards.state``) and
  every audit row carries the user ``dev-<role>``. Never use it with real data.

Every sign-in and failed sign-in is written to the audit trail.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from neo4j import Driver

from dashboards.scope import Scope
from graph import keycheck
from riskgraph.errors import ConfigError
from riskgraph.identifiers import load_hash_key
from riskgraph.settings import AuthSettings, Settings, auth_settings
from security import audit, users
from security.scope import AccessDenied, scope_for
from security.users import User

SESSION_KEY = "rg_auth"


def authlib_installed() -> bool:
    """True when Authlib (what Streamlit's ``st.login`` needs) can be imported."""
    return importlib.util.find_spec("authlib") is not None


def load_auth_settings(env: Mapping[str, str] | None = None, *,
                       oidc_available: Callable[[], bool] = authlib_installed) -> AuthSettings:
    """The sign-in settings of the app (``riskgraph serve``, the app itself): the checked
    values of :func:`riskgraph.settings.auth_settings` (every command checks them when its
    settings load), and ``RISKGRAPH_AUTH=oidc`` without Authlib installed is a
    :class:`ConfigError` (``st.login`` would otherwise fail only when someone signs in)."""
    auth = auth_settings(os.environ if env is None else env)
    if auth.mode == "oidc" and not oidc_available():
        raise ConfigError("RISKGRAPH_AUTH=oidc needs Authlib, which is not installed",
                          "install the extra: .venv/bin/pip install -e '.[oidc]' "
                          "(or pip install 'Authlib>=1.3.2'), or use RISKGRAPH_AUTH=local")
    return auth


def sign_in(driver: Driver, settings: Settings, auth: AuthSettings, username: str,
            password: str, now: datetime | None = None) -> users.LoginResult:
    """Verify a local sign-in and write ``login`` or ``login_failed`` to the audit trail.
    (No Streamlit here, so the app's form and tests share it.) An installation whose hash key
    is not the graph's raises :class:`graph.keycheck.KeyMismatchError` first: every password
    would fail, and counting those failures would lock every account."""
    keycheck.verify(driver, load_hash_key(settings.secrets_dir, settings.hash_key))
    result = users.verify(driver, settings, username, password,
                          max_failures=auth.max_failures,
                          lockout_minutes=auth.lockout_minutes, now=now)
    if result.ok and result.user is not None:
        audit.record(driver, "login", user=result.user, target=result.user.username,
                     detail={"mode": "local"}, now=now)
    else:
        audit.record(driver, "login_failed", user=username,
                     role=result.user.role if result.user else "", target=username,
                     detail={"mode": "local", "reason": result.status.value,
                             "locked_now": result.locked_now}, now=now)
    return result


def resolve_oidc_identity(driver: Driver, identity: Mapping[str, Any]) -> User | None:
    """The enabled local account of an OIDC identity (``st.user``): by ``email`` first, then by
    ``preferred_username``; None when there is none or it is disabled."""
    email = identity.get("email")
    user = users.find_by_email(driver, str(email)) if email else None
    if user is None and identity.get("preferred_username"):
        user = users.get_user(driver, str(identity["preferred_username"]))
    if user is None or user.disabled:
        return None
    return user


def _session_user(driver: Driver, state: Any, auth: AuthSettings) -> User | None:
    """The account of the current session, re-read from the graph; None when expired or gone."""
    data = state.get(SESSION_KEY)
    if not isinstance(data, dict) or not data.get("username"):
        return None
    started = datetime.fromisoformat(str(data.get("at")))
    if datetime.now(UTC) - started > timedelta(hours=auth.session_hours):
        state.pop(SESSION_KEY, None)
        return None
    user = users.get_user(driver, str(data["username"]))
    if user is None or user.disabled:
        state.pop(SESSION_KEY, None)
        return None
    return user


def _driver(settings: Settings) -> Driver:
    import streamlit as st

    @st.cache_resource(show_spinner=False)
    def _connect(uri: str | None, home: str) -> Driver:
        from graph.connection import connect

        del uri, home
        return connect(settings)

    return _connect(settings.neo4j_uri, str(settings.home))


def current_user(settings: Settings, driver: Driver | None = None,
                 auth: AuthSettings | None = None) -> tuple[User, Scope]:
    """The signed-in user and its Scope. When nobody is signed in, draws the sign-in (local
    form or OIDC button) and stops the script run (``st.stop``), so pages below it never run
    for an anonymous visitor."""
    import streamlit as st

    auth = auth or load_auth_settings()
    drv = driver or _driver(settings)
    user = _session_user(drv, st.session_state, auth)
    if user is None:
        user = _oidc_user(st, drv, auth) if auth.mode == "oidc" else _local_form(
            st, drv, settings, auth)
    try:
        return user, scope_for(user)
    except AccessDenied:
        st.session_state.pop(SESSION_KEY, None)
        st.error("账户不可用 / account not usable")
        st.stop()
        raise


def _remember(st: Any, user: User) -> None:
    st.session_state[SESSION_KEY] = {"username": user.username,
                                     "at": datetime.now(UTC).isoformat()}


def _local_form(st: Any, driver: Driver, settings: Settings, auth: AuthSettings) -> User:
    st.title("riskgraph")
    with st.form("rg_sign_in"):
        username = st.text_input("用户名 / Username", key="rg_username")
        password = st.text_input("密码 / Password", type="password", key="rg_password")
        submitted = st.form_submit_button("登录 / Sign in")
    if submitted:
        try:
            result = sign_in(driver, settings, auth, username, password)
        except keycheck.KeyMismatchError:
            st.error("系统密钥与数据库不一致，暂停登录，请联系运维人员 / This installation's hash "
                     "key is not the graph's: sign-in is off until the operator restores it "
                     "(docs/security.md)")
            st.stop()
            raise
        if result.ok and result.user is not None:
            _remember(st, result.user)
            st.session_state.pop("rg_password", None)
            st.rerun()
        st.error(result.message)
    st.stop()
    raise AssertionError("unreachable")


def _oidc_user(st: Any, driver: Driver, auth: AuthSettings) -> User:
    if not st.user.is_logged_in:
        st.title("riskgraph")
        if st.button("统一身份认证登录 / Sign in"):
            if auth.provider:
                st.login(auth.provider)
            else:
                st.login()
        st.stop()
    identity = st.user.to_dict()
    user = resolve_oidc_identity(driver, identity)
    label = str(identity.get("email") or identity.get("preferred_username") or
                identity.get("sub") or "")
    if user is None:
        audit.record(driver, "login_failed", user=label, role="", target=label,
                     detail={"mode": "oidc", "reason": "no_local_account"})
        st.error("此身份没有可用的本地账户 / no enabled local account for this identity")
        st.button("退出 / Sign out", on_click=st.logout)
        st.stop()
        raise AssertionError("unreachable")
    audit.record(driver, "login", user=user, target=user.username,
                 detail={"mode": "oidc", "identity": label})
    _remember(st, user)
    return user


def sign_out(driver: Driver | None = None, user: User | None = None) -> None:
    """End the session (and the OIDC session when there is one); audited as ``logout``."""
    import streamlit as st

    if driver is not None and user is not None:
        audit.record(driver, "logout", user=user, target=user.username)
    st.session_state.pop(SESSION_KEY, None)
    if getattr(st.user, "is_logged_in", False):
        st.logout()
