"""Who may ask what: API tokens (stored as keyed hashes), roles, street scope, ID masking.

Roles:
- ``admin``: everything, and sees resident ID numbers unmasked;
- ``commission``: a street discipline commission, scoped to its streets: it sees and triages
  only those streets' findings and people, never another street's (not even in counts);
- ``reviewer``: the pre-award check only;
- ``auditor``: the audit bureau: reads everything, uploads datasets and starts screenings.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from api.models import ROLES, ApiToken, now
from api.problems import Problem
from integrity.masking import mask, mask_text

__all__ = ["Principal", "TokenStore", "mask", "mask_text", "present"]

TOKEN_PREFIX = "itg_"
Stamp = tuple[int, int, int] | None  # the revocation stamp file's inode, mtime and size
CACHE_SECONDS = 30.0


@dataclass(frozen=True)
class Principal:
    token_id: int | None
    name: str
    role: str
    streets: tuple[str, ...] = ()

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def scoped(self) -> bool:
        """True when only some streets may be seen (a commission)."""
        return self.role == "commission"

    def sees_street(self, street: str | None) -> bool:
        return not self.scoped or (street is not None and street in self.streets)


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(secret: str, token: str) -> str:
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()


class TokenStore:
    """Issues and checks tokens; a checked token is remembered for a few seconds so that the
    pre-award check does not pay a database round trip per request.

    A revocation must hold at once in every worker process, not when their caches expire:
    revoking rewrites a stamp file beside the database (``stamp``, in the data folder every
    worker of one service shares), and a remembered answer counts only while the stamp's
    identity (one ``stat``, a few microseconds) is the one it was checked under."""

    def __init__(self, engine: Engine, secret: str, stamp: Path | None = None) -> None:
        self.engine = engine
        self.secret = secret
        self.stamp = stamp
        # token hash -> (when checked, the principal or None, the stamp it was checked under)
        self._cache: dict[str, tuple[float, Principal | None, Stamp]] = {}
        self._lock = threading.Lock()

    def _stamp_id(self) -> Stamp:
        if self.stamp is None:
            return None
        try:
            st = os.stat(self.stamp)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _touch_stamp(self) -> None:
        if self.stamp is None:
            return
        fresh = self.stamp.with_name(f".{self.stamp.name}.{secrets.token_hex(6)}")
        fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(f"{time.time_ns()}\n")
        os.replace(fresh, self.stamp)  # a new inode: every reader sees the change

    def issue(self, name: str, role: str, streets: list[str] | None = None) -> tuple[str, ApiToken]:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
        streets = [s.strip() for s in (streets or []) if s.strip()]
        if role == "commission" and not streets:
            raise ValueError("a commission token needs at least one street")
        token = new_token()
        record = ApiToken(
            name=name,
            role=role,
            streets=streets if role == "commission" else [],
            token_hash=token_hash(self.secret, token),
            prefix=token[: len(TOKEN_PREFIX) + 4],
            created_at=now(),
        )
        with Session(self.engine) as session:
            session.add(record)
            session.commit()
            session.refresh(record)
        return token, record

    def revoke(self, token_id: int) -> bool:
        with Session(self.engine) as session:
            record = session.get(ApiToken, token_id)
            if record is None:
                return False
            record.revoked_at = now()
            session.add(record)
            session.commit()
        self._touch_stamp()
        with self._lock:
            self._cache.clear()
        return True

    def any_admin(self) -> bool:
        with Session(self.engine) as session:
            stmt = select(ApiToken).where(ApiToken.role == "admin", ApiToken.revoked_at == None)  # noqa: E711
            return session.exec(stmt).first() is not None

    def principal(self, token: str) -> Principal | None:
        return self.principal_of_digest(token_hash(self.secret, token))

    def principal_of_digest(self, digest: str) -> Principal | None:
        """The principal of a token known by its keyed hash (a page's session keeps the
        hash, never the token)."""
        at = time.monotonic()
        stamp = self._stamp_id()
        with self._lock:
            hit = self._cache.get(digest)
        # an entry counts only under the stamp it was checked under: a revocation since, here
        # or in another worker, sends the lookup to the database
        if hit is not None and at - hit[0] < CACHE_SECONDS and hit[2] == stamp:
            return hit[1]
        with Session(self.engine) as session:
            record = session.exec(select(ApiToken).where(ApiToken.token_hash == digest)).first()
        found = None
        if record is not None and record.revoked_at is None:
            found = Principal(record.id, record.name, record.role, tuple(record.streets))
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (at, found, stamp)
        return found


def token_hint(authorization: str | None) -> str:
    """What the audit log keeps of a refused credential: the scheme and the token's first
    characters (as ``ApiToken.prefix`` does), never the whole token."""
    if not authorization:
        return "（无）"
    scheme, _, value = authorization.strip().partition(" ")
    if not value:
        return scheme[:8] + "…"
    return f"{scheme[:10]} {value.strip()[: len(TOKEN_PREFIX) + 4]}…"


def authenticate(store: TokenStore, authorization: str | None) -> Principal:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Problem(
            401,
            "需要 API 令牌：请求头 Authorization: Bearer <令牌> / "
            "an API token is required: Authorization: Bearer <token>",
        )
    principal = store.principal(authorization.split(" ", 1)[1].strip())
    if principal is None:
        raise Problem(401, "令牌无效或已吊销 / the token is invalid or revoked")
    return principal


def require_role(principal: Principal, *roles: str) -> None:
    if principal.role not in roles:
        raise Problem(
            403,
            f"角色「{principal.role}」无权使用此功能 / role {principal.role!r} may not do this "
            f"(allowed: {', '.join(roles)})",
        )


def present(value: Any, principal: Principal) -> Any:
    """What a principal may see of a value: ID numbers masked except for admin."""
    return value if principal.is_admin else mask(value)
