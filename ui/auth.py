"""Sign-in for the app's sessions (core.auth does the NetBox side): the sign-in page, who is signed in, the
settings a session works with, sign-out, and the sweeper that deletes the tokens of sessions that ended.
With AUTH=oidc, Streamlit's own st.login / st.user / st.logout do the OpenID Connect part.

A session is one browser tab: its analyst lives in st.session_state, so a reload is a new session that signs
in again (the old one's token is deleted by the sweeper once Streamlit closes that session)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core.auth import (
    Analyst,
    SessionTokens,
    SignInRefused,
    local_user,
    sign_in,
    sign_in_with_token,
    sign_out,
    sso_analyst,
    username_of,
)
from core.choices import AuthMode, SignInMethod
from core.errors import ImporterError
from core.settings import Settings
from ui.text import literal

log = logging.getLogger(__name__)

ANALYST = "_analyst"
NOTICE = "_sign_in_notice"  # said on the sign-in page: why the session was signed out
NONE_BANNER = (
    "Sign-in is off (AUTH=none): whoever opens this app works in NetBox with the service token, and "
    "NetBox's changelog cannot tell who did what. Only for one person on their own machine."
)


def _session_id() -> str:
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else ""


def _session_alive(session_id: str) -> bool:
    """Whether Streamlit still has the session: connected, or closed so recently it may reconnect."""
    if not Runtime.exists():
        return True
    runtime = Runtime.instance()
    manager = getattr(runtime, "_session_mgr", None)
    if manager is not None and hasattr(manager, "get_session_info"):
        return manager.get_session_info(session_id) is not None
    return runtime.is_active_session(session_id)


@st.cache_resource(show_spinner=False)
def _tokens(_settings: Settings) -> SessionTokens:
    """The process's registry of sign-in tokens, and its sweeper thread."""
    tokens = SessionTokens(_settings)

    def sweep() -> None:
        while True:
            time.sleep(_settings.session_sweep_seconds)
            try:
                tokens.sweep(_session_alive)
            except Exception:  # the sweeper must outlive any one failure
                log.exception("sweeping the sign-in tokens of ended sessions failed")

    threading.Thread(target=sweep, name="sign-in-token-sweeper", daemon=True).start()
    return tokens


def current(settings: Settings) -> Analyst | None:
    """The session's analyst; None when nobody signed in, or their sign-in has expired (then the sign-in
    page says so). AUTH=none: the local user."""
    if settings.auth is AuthMode.NONE:
        return local_user()
    if settings.auth is AuthMode.OIDC:
        return _single_sign_on(settings)
    analyst = st.session_state.get(ANALYST)
    if not isinstance(analyst, Analyst):
        return None
    if analyst.expired():
        st.session_state.pop(ANALYST, None)
        _tokens(settings).forget(_session_id())
        st.session_state[NOTICE] = "Your sign-in has expired: sign in again."
        return None
    return analyst


def _single_sign_on(settings: Settings) -> Analyst | None:
    """The analyst the identity provider signed in (st.user), looked up in NetBox once per session."""
    if not st.user.is_logged_in:
        st.session_state.pop(ANALYST, None)
        return None
    claims = dict(st.user)
    analyst = st.session_state.get(ANALYST)
    if isinstance(analyst, Analyst) and analyst.username == username_of(claims):
        return analyst
    try:
        analyst = sso_analyst(settings, claims)
    except SignInRefused as exc:
        st.session_state[NOTICE] = exc.message
        return None
    st.session_state[ANALYST] = analyst
    return analyst


def _signed_in(settings: Settings, analyst: Analyst) -> None:
    st.session_state[ANALYST] = analyst
    _tokens(settings).register(_session_id(), analyst)
    st.rerun()


def sign_in_page(settings: Settings) -> None:
    """The page a session sees until it signs in."""
    st.title("Sign in")
    if settings.auth is AuthMode.OIDC:
        _single_sign_on_page()
        return
    st.caption(
        "Sign in with your NetBox account. The app then works in NetBox with your own permissions, and "
        "NetBox's changelog names you for every change you import."
    )
    if notice := st.session_state.pop(NOTICE, None):
        st.info(notice, icon="ℹ️")
    with st.form("sign-in", border=True):
        username = st.text_input("NetBox username", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        go = st.form_submit_button("Sign in", type="primary", icon="🔑")
    if go:
        _attempt(settings, lambda: sign_in(settings, username.strip(), password))
    with st.expander("Sign in with a NetBox API token of your own (if you log in to NetBox through SSO)"):
        with st.form("token-sign-in", border=False):
            token = st.text_input("Your NetBox API token (nbt_…)", type="password")
            st.caption("The app uses it while this tab is open and never stores it; NetBox keeps it.")
            go_token = st.form_submit_button("Sign in with this token")
        if go_token:
            _attempt(settings, lambda: sign_in_with_token(settings, token))


def _single_sign_on_page() -> None:
    st.caption(
        "Sign in through your organisation's single sign-on. The app names you in NetBox's changelog for "
        "every change you import."
    )
    if notice := st.session_state.pop(NOTICE, None):
        st.info(notice, icon="ℹ️")
    if st.user.is_logged_in:  # the provider signed someone in whom the app cannot name: let them switch
        if st.button("Sign out of single sign-on", icon="🚪"):
            st.logout()
        return
    if st.button("Sign in with single sign-on", type="primary", icon="🔑"):
        st.login()


def _attempt(settings: Settings, how: Callable[[], Analyst]) -> None:
    try:
        analyst = how()
    except SignInRefused as exc:
        st.error(literal(exc.message), icon="🚫")
        if exc.hint:
            st.caption(literal(exc.hint))
        return
    except ImporterError as exc:
        st.error(literal(exc.message), icon="⚠️")
        if exc.hint:
            st.caption(literal(exc.hint))
        return
    _signed_in(settings, analyst)


def sidebar(settings: Settings, analyst: Analyst) -> None:
    """Who is signed in, and sign-out."""
    if analyst.method is SignInMethod.NONE:
        st.caption("No sign-in (AUTH=none)")
        return
    role = "admin" if analyst.is_admin else "analyst"
    st.caption(f"Signed in as **{literal(analyst.username)}** ({role}, {analyst.method.value})")
    if st.button("Sign out", icon="🚪"):
        sign_out_session(settings, analyst)


def sign_out_session(settings: Settings, analyst: Analyst) -> None:
    st.session_state.pop(ANALYST, None)
    if analyst.method is SignInMethod.SSO:
        st.session_state[NOTICE] = "Signed out."
        st.logout()  # Streamlit's identity cookie goes; the page reruns
        return
    _tokens(settings).forget(_session_id())
    try:
        sign_out(settings, analyst)
    except ImporterError as exc:
        st.session_state[NOTICE] = f"Signed out, but {exc}"
    else:
        st.session_state[NOTICE] = "Signed out." + (
            " Your sign-in token was deleted in NetBox." if analyst.provisioned else ""
        )
    st.rerun()
