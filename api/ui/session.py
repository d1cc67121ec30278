"""The pages' sign-in: a token typed once into /ui/login, then a session cookie.

The cookie holds the token's keyed hash (never the token) and a CSRF secret, signed and
time-limited under the service's secret (itsdangerous); it is HttpOnly, SameSite=Strict,
and Secure when the page was asked over HTTPS. Every form carries the CSRF secret in a
hidden field; a form posted without it, or with another, is refused. A revoked token ends
its sessions at their next request (the token is looked up on every page).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from api.security import Principal, TokenStore, token_hash

COOKIE = "integrity_session"
MAX_AGE_SECONDS = 8 * 3600  # a working day


@dataclass(frozen=True)
class Session:
    principal: Principal
    csrf: str


class Sessions:
    def __init__(self, tokens: TokenStore, secret: str) -> None:
        self.tokens = tokens
        self.signer = URLSafeTimedSerializer(secret, salt="integrity-ui-session")

    def start(self, token: str, request: Request, response: Response) -> Principal | None:
        """Sign in with ``token``: the session cookie set on ``response``; None when the
        token is invalid or revoked."""
        digest = token_hash(self.tokens.secret, token.strip())
        principal = self.tokens.principal_of_digest(digest)
        if principal is None:
            return None
        value = self.signer.dumps({"d": digest, "c": secrets.token_urlsafe(24)})
        response.set_cookie(
            COOKIE,
            value,
            max_age=MAX_AGE_SECONDS,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )
        return principal

    def of(self, request: Request) -> Session | None:
        """The request's session, if its cookie is good and its token still valid."""
        value = request.cookies.get(COOKIE)
        if not value:
            return None
        try:
            data: Any = self.signer.loads(value, max_age=MAX_AGE_SECONDS)
        except BadSignature:
            return None
        principal = self.tokens.principal_of_digest(str(data.get("d", "")))
        if principal is None:
            return None
        return Session(principal, str(data.get("c", "")))

    @staticmethod
    def end(response: Response) -> None:
        response.delete_cookie(COOKIE, path="/")

    @staticmethod
    def csrf_ok(session: Session, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(session.csrf, str(given))
