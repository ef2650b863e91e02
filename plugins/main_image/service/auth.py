"""Credentials: bearer tokens for admins and the frontend, signed tokens for upload links.

A link token is ``<payload>.<signature>``: the payload is base64url JSON naming the link's id,
hotel, source, expiry and file budget; the signature is HMAC-SHA256 of the payload with the
link secret. The signature proves the service issued the token (401 otherwise); the database
row of the link id holds how many files were used (410 once used up or expired).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

bearer = HTTPBearer(auto_error=False, description="the admin or the frontend token")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


@dataclass(frozen=True)
class LinkClaims:
    link_id: str
    hotel_id: int
    source: str
    expires_at: datetime
    max_files: int


class InvalidToken(Exception):
    """Not a token this service signed."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), payload.encode("ascii"), hashlib.sha256).digest())


def sign_link(secret: str, claims: LinkClaims) -> str:
    body = {
        "l": claims.link_id,
        "h": claims.hotel_id,
        "s": claims.source,
        "e": int(claims.expires_at.timestamp()),
        "m": claims.max_files,
    }
    payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_signature(secret, payload)}"


def verify_link(secret: str, token: str) -> LinkClaims:
    """The claims of a token this service signed; raises InvalidToken for anything else."""
    payload, dot, signature = token.partition(".")
    if not dot or not payload.isascii() or not signature.isascii():
        raise InvalidToken
    if not hmac.compare_digest(_signature(secret, payload), signature):
        raise InvalidToken
    try:
        body = json.loads(_unb64(payload))
        return LinkClaims(
            link_id=str(body["l"]),
            hotel_id=int(body["h"]),
            source=str(body["s"]),
            expires_at=datetime.fromtimestamp(int(body["e"]), UTC),
            max_files=int(body["m"]),
        )
    except (ValueError, KeyError, TypeError) as error:  # signed but unreadable: not ours
        raise InvalidToken from error


def _matches(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )


def _token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None:
        raise _unauthorized("missing bearer token")
    return credentials.credentials


def require_admin(request: Request, credentials: Credentials) -> str:
    """Dependency: the admin token, compared in constant time."""
    if not _matches(_token(credentials), request.app.state.settings.admin_token):
        raise _unauthorized("wrong token")
    return "admin"


def require_reader(request: Request, credentials: Credentials) -> str:
    """Dependency: the admin or the frontend (read-only) token."""
    token, settings = _token(credentials), request.app.state.settings
    if _matches(token, settings.admin_token):
        return "admin"
    if _matches(token, settings.frontend_token):
        return "frontend"
    raise _unauthorized("wrong token")
