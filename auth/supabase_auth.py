"""Supabase Auth as the password checker, through the official `supabase` client.

One short-lived client per sign-in: no persisted session, no auto-refresh timer
thread, its own httpx client with a timeout, signed out and closed before returning.
GoTrue answers `POST {url}/auth/v1/token?grant_type=password` with a session (200)
or `{"code": 400, "error_code": "invalid_credentials", ...}` (400).
"""

from __future__ import annotations

import httpx
from pydantic import ValidationError
from supabase import Client, ClientOptions, SupabaseException, create_client
from supabase_auth.errors import (
    AuthApiError,
    AuthError,
    AuthInvalidCredentialsError,
    AuthRetryableError,
)

from auth.service import AuthProviderUnavailable, ExternalIdentity

#: Statuses with which GoTrue refuses the credentials themselves. Anything else
#: (401/403 bad API key, 404 wrong URL, 429 rate limit, 5xx) is the provider's
#: problem and must not count against the user.
REFUSAL_STATUSES = frozenset({400, 422})
DEFAULT_TIMEOUT_SECONDS = 10.0


class SupabaseAuthenticator:
    """`auth.service.PasswordAuthenticator` backed by Supabase Auth (GoTrue)."""

    def __init__(
        self, url: str, anon_key: str, *, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    ) -> None:
        self._url = url
        self._anon_key = anon_key
        self._timeout = timeout_seconds

    def __repr__(self) -> str:  # never show the key
        return f"SupabaseAuthenticator(url={self._url!r})"

    def authenticate(self, email: str, password: str) -> ExternalIdentity | None:
        """The Supabase user, None for wrong credentials; AuthProviderUnavailable if down."""
        with httpx.Client(timeout=self._timeout) as http:
            options = ClientOptions(
                auto_refresh_token=False, persist_session=False, httpx_client=http
            )
            try:
                client = create_client(self._url, self._anon_key, options=options)
                response = client.auth.sign_in_with_password({"email": email, "password": password})
            except SupabaseException as exc:  # malformed URL or key
                raise AuthProviderUnavailable(exc.message) from None
            except AuthError as exc:
                _raise_unless_refused(exc)
                return None
            except ValidationError:
                raise AuthProviderUnavailable("it sent a response we cannot read") from None
            _sign_out_quietly(client)
        user = response.user
        if user is None:
            raise AuthProviderUnavailable("it accepted the sign-in but named no user")
        return ExternalIdentity(user_id=user.id, email=user.email or email)


def _raise_unless_refused(exc: AuthError) -> None:
    """Return when GoTrue refused the credentials; raise when it could not judge them."""
    if isinstance(exc, AuthInvalidCredentialsError):
        return
    if isinstance(exc, AuthApiError) and exc.status in REFUSAL_STATUSES:
        return
    if isinstance(exc, AuthApiError | AuthRetryableError):
        reason = f"HTTP {exc.status} {exc.message}" if exc.status else exc.message
    else:
        reason = exc.message
    first_line = (reason or "").strip().split("\n")[0]
    raise AuthProviderUnavailable(first_line or type(exc).__name__) from None


def _sign_out_quietly(client: Client) -> None:
    """Revoke the session we never use; the identity is already established."""
    try:
        client.auth.sign_out({"scope": "local"})
    except AuthError:
        pass
