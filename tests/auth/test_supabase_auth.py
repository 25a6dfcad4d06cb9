"""Supabase Auth sign-in: the real supabase client against a local GoTrue stand-in.

pytest-httpserver plays `POST /auth/v1/token?grant_type=password` (and `/logout`);
the accounts table, on SQLite and PostgreSQL, still decides business and role.
"""

from __future__ import annotations

import socket
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from pytest_httpserver import HTTPServer

from auth.roles import Role
from auth.service import (
    GENERIC_FAILURE,
    AuthProviderUnavailable,
    SignInError,
    SignInThrottled,
    sign_in,
)
from auth.supabase_auth import SupabaseAuthenticator
from data.db import read_conn, write_tx
from data.schema import accounts, sign_in_throttle
from settings import Settings
from tests.factories import make_account

#: Syntactically a JWT (header.payload.signature, base64url); signs nothing.
ANON_KEY = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJpc3MiOiJzdXBhYmFzZSIsInJvbGUiOiJhbm9uIiwiZXhwIjoyMDAwMDAwMDAwfQ"
    ".ZmFrZS1zaWduYXR1cmUtZm9yLXRlc3RzLW9ubHk"
)
USER_ID = "4a7e1c2d-9b8f-4e3a-a1d2-6c5b4a3f2e10"
EMAIL = "ada@example.com"
PASSWORD = "supabase side secret"
T0 = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
TOKEN_PATH = "/auth/v1/token"
INVALID = {"code": 400, "error_code": "invalid_credentials", "msg": "Invalid login credentials"}


def _session(*, user_id: str = USER_ID, email: str = EMAIL) -> dict:
    """What GoTrue returns for a password grant (trimmed, realistic shape)."""
    stamp = "2024-05-01T10:00:00.000000Z"
    identity = {
        "identity_id": "0d1c2b3a-4f5e-4d6c-8b7a-9e8d7c6b5a41",
        "id": user_id,
        "user_id": user_id,
        "identity_data": {"email": email, "email_verified": True, "sub": user_id},
        "provider": "email",
        "last_sign_in_at": stamp,
        "created_at": stamp,
        "updated_at": stamp,
        "email": email,
    }
    return {
        "access_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2lnbmF0dXJl",
        "token_type": "bearer",
        "expires_in": 3600,
        "expires_at": int(time.time()) + 3600,
        "refresh_token": "v1.fake-refresh-token",
        "user": {
            "id": user_id,
            "aud": "authenticated",
            "role": "authenticated",
            "email": email,
            "email_confirmed_at": stamp,
            "phone": "",
            "confirmed_at": stamp,
            "last_sign_in_at": stamp,
            "app_metadata": {"provider": "email", "providers": ["email"]},
            "user_metadata": {"email": email, "email_verified": True, "sub": user_id},
            "identities": [identity],
            "created_at": stamp,
            "updated_at": stamp,
            "is_anonymous": False,
        },
    }


def _settings(engine: sa.Engine, url: str) -> Settings:
    return Settings(
        supabase_url=url,
        supabase_anon_key=ANON_KEY,
        database_url=engine.url.render_as_string(hide_password=False),
        sign_in_free_failures=1,
        sign_in_max_delay_seconds=60,
    )


def _gotrue(httpserver: HTTPServer, body: dict | str, status: int = 200) -> None:
    token = httpserver.expect_request(
        TOKEN_PATH, method="POST", query_string={"grant_type": "password"}
    )
    if isinstance(body, dict):
        token.respond_with_json(body, status=status)
    else:
        token.respond_with_data(body, status=status, content_type="text/html")
    httpserver.expect_request("/auth/v1/logout", method="POST").respond_with_data("", status=204)


def _token_requests(httpserver: HTTPServer) -> list:
    return [request for request, _ in httpserver.log if request.path == TOKEN_PATH]


def _throttle_rows(engine: sa.Engine) -> int:
    with read_conn(engine) as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(sign_in_throttle)).scalar_one()


def _external_id(engine: sa.Engine, account_id: int) -> str | None:
    with read_conn(engine) as conn:
        query = sa.select(accounts.c.external_auth_id).where(accounts.c.id == account_id)
        return conn.execute(query).scalar_one()


@pytest.fixture
def account_id(engine: sa.Engine, business: int) -> int:
    with write_tx(engine) as conn:
        return make_account(conn, business, role="analyst", email=EMAIL, auth_provider="supabase")


def test_success_maps_to_the_account_and_links_the_user_id(
    engine: sa.Engine, httpserver: HTTPServer, business: int, account_id: int
) -> None:
    _gotrue(httpserver, _session())
    settings = _settings(engine, httpserver.url_for(""))
    who = sign_in(engine, settings=settings, email="Ada@Example.com", password=PASSWORD, now=T0)
    assert (who.account_id, who.business_id, who.role) == (account_id, business, Role.ANALYST)
    assert who.auth_provider == "supabase"
    assert _external_id(engine, account_id) == USER_ID
    [request] = _token_requests(httpserver)
    assert request.args["grant_type"] == "password"
    assert request.get_json()["email"] == "Ada@Example.com"
    assert request.get_json()["password"] == PASSWORD
    assert request.headers["apikey"] == ANON_KEY
    assert [r.path for r, _ in httpserver.log][-1] == "/auth/v1/logout"  # session revoked


def test_a_linked_user_is_found_by_id_after_changing_email(
    engine: sa.Engine, httpserver: HTTPServer, account_id: int
) -> None:
    settings = _settings(engine, httpserver.url_for(""))
    _gotrue(httpserver, _session())
    sign_in(engine, settings=settings, email=EMAIL, password=PASSWORD, now=T0)
    httpserver.clear()
    _gotrue(httpserver, _session(email="ada.new@example.com"))
    who = sign_in(engine, settings=settings, email="ada.new@example.com", password=PASSWORD, now=T0)
    assert who.account_id == account_id


def test_wrong_password_is_generic_and_counts_toward_the_throttle(
    engine: sa.Engine, httpserver: HTTPServer, account_id: int
) -> None:
    _gotrue(httpserver, INVALID, status=400)
    settings = _settings(engine, httpserver.url_for(""))
    for _ in range(2):
        with pytest.raises(SignInError) as caught:
            sign_in(engine, settings=settings, email=EMAIL, password="wrong one!", now=T0)
        assert type(caught.value) is SignInError and str(caught.value) == GENERIC_FAILURE
    with pytest.raises(SignInThrottled):
        sign_in(engine, settings=settings, email=EMAIL, password=PASSWORD, now=T0)
    assert len(_token_requests(httpserver)) == 2  # the blocked attempt never left the house
    assert _external_id(engine, account_id) is None


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (503, "<html>upstream connect error</html>"),
        (502, {"message": "An invalid response was received from the upstream server"}),
        (401, {"message": "Invalid API key"}),
        (500, {"code": 500, "error_code": "unexpected_failure", "msg": "database error"}),
    ],
)
def test_provider_trouble_is_unavailable_and_not_counted(
    engine: sa.Engine, httpserver: HTTPServer, account_id: int, status: int, body: dict | str
) -> None:
    _gotrue(httpserver, body, status=status)
    settings = _settings(engine, httpserver.url_for(""))
    for _ in range(3):
        with pytest.raises(AuthProviderUnavailable, match="Supabase Auth is unreachable") as caught:
            sign_in(engine, settings=settings, email=EMAIL, password=PASSWORD, now=T0)
        assert "switch to local accounts" in str(caught.value)
        assert PASSWORD not in str(caught.value) and ANON_KEY not in str(caught.value)
    assert _throttle_rows(engine) == 0


def test_closed_port_is_unavailable(engine: sa.Engine, account_id: int) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = _settings(engine, f"http://127.0.0.1:{port}")
    with pytest.raises(AuthProviderUnavailable, match="unreachable"):
        sign_in(engine, settings=settings, email=EMAIL, password=PASSWORD, now=T0)
    assert _throttle_rows(engine) == 0


def test_supabase_user_without_an_account_is_generic(
    engine: sa.Engine, httpserver: HTTPServer, account_id: int
) -> None:
    _gotrue(
        httpserver, _session(user_id="9e9e9e9e-0000-4000-8000-000000000001", email="x@example.com")
    )
    settings = _settings(engine, httpserver.url_for(""))
    with pytest.raises(SignInError) as caught:
        sign_in(engine, settings=settings, email="x@example.com", password=PASSWORD, now=T0)
    assert type(caught.value) is SignInError and str(caught.value) == GENERIC_FAILURE
    assert _throttle_rows(engine) == 1  # a refusal like any other


def test_an_account_linked_to_another_user_is_not_taken_over(
    engine: sa.Engine, httpserver: HTTPServer, business: int, account_id: int
) -> None:
    with write_tx(engine) as conn:
        conn.execute(
            accounts.update().where(accounts.c.id == account_id).values(external_auth_id=USER_ID)
        )
    _gotrue(httpserver, _session(user_id="11111111-2222-4333-8444-555555555555"))
    settings = _settings(engine, httpserver.url_for(""))
    with pytest.raises(SignInError, match="E-mail or password is incorrect"):
        sign_in(engine, settings=settings, email=EMAIL, password=PASSWORD, now=T0)
    assert _external_id(engine, account_id) == USER_ID


def test_inactive_account_is_refused_even_when_supabase_accepts(
    engine: sa.Engine, httpserver: HTTPServer, business: int, account_id: int
) -> None:
    with write_tx(engine) as conn:
        make_account(conn, business, role="owner")
        conn.execute(accounts.update().where(accounts.c.id == account_id).values(is_active=False))
    _gotrue(httpserver, _session())
    with pytest.raises(SignInError, match="E-mail or password is incorrect"):
        sign_in(
            engine,
            settings=_settings(engine, httpserver.url_for("")),
            email=EMAIL,
            password=PASSWORD,
            now=T0 + timedelta(seconds=1),
        )


def test_authenticator_alone_returns_identity_or_none_and_leaves_no_thread(
    httpserver: HTTPServer,
) -> None:
    authenticator = SupabaseAuthenticator(httpserver.url_for(""), ANON_KEY)
    assert ANON_KEY not in repr(authenticator)
    _gotrue(httpserver, _session())
    threads_before = set(threading.enumerate())
    identity = authenticator.authenticate(EMAIL, PASSWORD)
    assert identity is not None and (identity.user_id, identity.email) == (USER_ID, EMAIL)
    assert set(threading.enumerate()) == threads_before  # no auto-refresh timer
    httpserver.clear()
    _gotrue(httpserver, INVALID, status=400)
    assert authenticator.authenticate(EMAIL, "wrong one!") is None
