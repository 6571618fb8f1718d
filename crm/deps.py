"""Typed FastAPI dependencies: the runtime, a database session, and the logged-in user."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from config.runtime import Runtime
from config.settings import Settings
from crm.audit import write_audit
from crm.csrf import CSRF_COOKIE, SAFE_METHODS, check_csrf
from crm.errors import Forbidden, Unauthorized
from crm.models import Role, User
from crm.security import TokenClaims, csrf_token_for, read_access_token
from crm.token_denylist import denylist_for

SESSION_COOKIE = "madoguchi_session"
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


def get_runtime_dep(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


RuntimeDep = Annotated[Runtime, Depends(get_runtime_dep)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    """A session per request; services commit explicitly, anything uncommitted is rolled back."""
    with Session(runtime.engine, expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def _user_for_token(session: Session, runtime: Runtime, token: str | None) -> tuple[User, TokenClaims]:
    if not token:
        raise Unauthorized("not logged in: send 'Authorization: Bearer <token>' from POST /api/auth/token")
    claims = read_access_token(token, runtime.settings.secret_key)
    user = session.get(User, claims.user_id) if claims is not None else None
    if claims is None or user is None or not user.is_active:
        raise Unauthorized("the token is invalid or expired: log in again at POST /api/auth/token")
    if denylist_for(runtime.redis).is_revoked(session, claims.jti):
        raise Unauthorized("this token was logged out: log in again at POST /api/auth/token")
    return user, claims


def request_token(request: Request, bearer: str | None) -> tuple[str | None, bool]:
    """The access token of the request and whether it came from the session cookie (not a bearer)."""
    if bearer:
        return bearer, False
    cookie = request.cookies.get(SESSION_COOKIE)
    return cookie, cookie is not None


def authenticate_request(request: Request, runtime: Runtime, session: Session, bearer: str | None) -> User:
    """The user of a bearer token or of the console's session cookie; a cookie-authenticated unsafe
    request must also pass the CSRF checks (same Origin and the X-CSRF-Token header)."""
    token, via_cookie = request_token(request, bearer)
    user, claims = _user_for_token(session, runtime, token)
    if via_cookie and request.method not in SAFE_METHODS:
        check_csrf(request, runtime.settings, claims.jti)
    request.state.token_claims = claims
    return user


def get_current_user(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    bearer: Annotated[str | None, Depends(oauth2_scheme)],
) -> User:
    """The user of a bearer token, or of the console's session cookie."""
    return authenticate_request(request, runtime, session, bearer)


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_streaming_user(
    request: Request, runtime: RuntimeDep, bearer: Annotated[str | None, Depends(oauth2_scheme)]
) -> User:
    """Like CurrentUser, but with a session closed before returning: long-lived responses (SSE) must
    not hold a database connection (on SQLite that would hold the write lock), nor may long
    computations (GET /api/staffing)."""
    with Session(runtime.engine, expire_on_commit=False) as session:
        user = authenticate_request(request, runtime, session, bearer)
        session.expunge(user)
        session.rollback()
    return user


StreamingUser = Annotated[User, Depends(get_streaming_user)]


BearerToken = Annotated[str | None, Depends(oauth2_scheme)]


def set_session_cookies(response: Response, settings: Settings, token: str) -> None:
    """The console's session: the token (HttpOnly) and its CSRF token (readable by the console's JS)."""
    claims = read_access_token(token, settings.secret_key)
    assert claims is not None
    common: dict[str, Any] = {
        "samesite": "strict",
        "secure": not settings.is_dev,
        "max_age": settings.access_token_minutes * 60,
    }
    response.set_cookie(SESSION_COOKIE, token, httponly=True, **common)
    response.set_cookie(
        CSRF_COOKIE, csrf_token_for(claims.jti, settings.secret_key), httponly=False, **common
    )


def clear_session_cookies(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)


def revoke_request_token(request: Request, runtime: Runtime, session: Session, bearer: str | None) -> None:
    """Log out: deny the request's token until its expiry (an invalid or absent token is a no-op)."""
    token, via_cookie = request_token(request, bearer)
    try:
        user, claims = _user_for_token(session, runtime, token)
    except Unauthorized:
        return
    if via_cookie:
        check_csrf(request, runtime.settings, claims.jti)
    denylist_for(runtime.redis).revoke(session, claims.jti, claims.expires_at)
    write_audit(session, actor_id=user.id, action="auth.logout", object_type="user", object_id=user.id or 0)
    session.commit()


def require_roles(*roles: Role) -> Callable[[User], User]:
    """A dependency that lets only the given roles through (403 otherwise)."""

    def check(user: CurrentUser) -> User:
        if user.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise Forbidden(f"this needs one of the roles: {allowed} (you are {user.role.value})")
        return user

    return check


SupervisorUser = Annotated[User, Depends(require_roles(Role.SUPERVISOR, Role.ADMIN))]
AdminUser = Annotated[User, Depends(require_roles(Role.ADMIN))]
