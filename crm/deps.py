"""Typed FastAPI dependencies: the runtime, a database session, and the logged-in user."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from config.wiring import Runtime
from crm.errors import Forbidden, Unauthorized
from crm.models import Role, User
from crm.security import read_access_token

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


def _user_for_token(session: Session, runtime: Runtime, token: str | None) -> User:
    if not token:
        raise Unauthorized("not logged in: send 'Authorization: Bearer <token>' from POST /api/auth/token")
    user_id = read_access_token(token, runtime.settings.secret_key)
    user = session.get(User, user_id) if user_id is not None else None
    if user is None or not user.is_active:
        raise Unauthorized("the token is invalid or expired: log in again at POST /api/auth/token")
    return user


def get_current_user(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    bearer: Annotated[str | None, Depends(oauth2_scheme)],
) -> User:
    """The user of a bearer token, or of the console's session cookie."""
    return _user_for_token(session, runtime, bearer or request.cookies.get(SESSION_COOKIE))


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_streaming_user(
    request: Request, runtime: RuntimeDep, bearer: Annotated[str | None, Depends(oauth2_scheme)]
) -> User:
    """Like CurrentUser, but with a session closed before returning: long-lived responses (SSE) must
    not hold a database connection (on SQLite that would hold the write lock)."""
    with Session(runtime.engine, expire_on_commit=False) as session:
        user = _user_for_token(session, runtime, bearer or request.cookies.get(SESSION_COOKIE))
        session.expunge(user)
        session.rollback()
    return user


StreamingUser = Annotated[User, Depends(get_streaming_user)]


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
