"""HTTP routes for administering centers and users (admins only, audited).

``GET /api/centers`` (every logged-in user, for the console) stays in crm/api.py.
"""

from __future__ import annotations

from fastapi import APIRouter

from crm import center_admin, user_admin
from crm.admin_schemas import (
    CenterAdminPublic,
    CenterCreate,
    CenterUpdate,
    UserAdminPublic,
    UserCreate,
    UserUpdate,
)
from crm.deps import AdminUser, SessionDep
from crm.models import Role

router = APIRouter(prefix="/api")


@router.get("/centers/{center_id}", response_model=CenterAdminPublic, tags=["centers"])
def get_center(center_id: int, session: SessionDep, _user: AdminUser) -> CenterAdminPublic:
    return CenterAdminPublic.model_validate(center_admin.get_center(session, center_id=center_id))


@router.post("/centers", response_model=CenterAdminPublic, status_code=201, tags=["centers"])
def create_center(body: CenterCreate, session: SessionDep, user: AdminUser) -> CenterAdminPublic:
    center = center_admin.create_center(session, actor_id=user.id, **body.model_dump(exclude_unset=True))
    return CenterAdminPublic.model_validate(center)


@router.patch("/centers/{center_id}", response_model=CenterAdminPublic, tags=["centers"])
def update_center(
    center_id: int, body: CenterUpdate, session: SessionDep, user: AdminUser
) -> CenterAdminPublic:
    center = center_admin.update_center(
        session, center_id=center_id, actor_id=user.id, **body.model_dump(exclude_unset=True)
    )
    return CenterAdminPublic.model_validate(center)


@router.get("/users", response_model=list[UserAdminPublic], tags=["users"])
def list_users(
    session: SessionDep,
    _user: AdminUser,
    center_id: int | None = None,
    role: Role | None = None,
    active: bool | None = None,
) -> list[UserAdminPublic]:
    users = user_admin.list_users(session, center_id=center_id, role=role, active=active)
    return [UserAdminPublic.model_validate(u) for u in users]


@router.get("/users/{user_id}", response_model=UserAdminPublic, tags=["users"])
def get_user(user_id: int, session: SessionDep, _user: AdminUser) -> UserAdminPublic:
    return UserAdminPublic.model_validate(user_admin.get_user(session, user_id=user_id))


@router.post("/users", response_model=UserAdminPublic, status_code=201, tags=["users"])
def create_user(body: UserCreate, session: SessionDep, user: AdminUser) -> UserAdminPublic:
    created = user_admin.add_user(session, actor_id=user.id, **body.model_dump(exclude_unset=True))
    return UserAdminPublic.model_validate(created)


@router.patch("/users/{user_id}", response_model=UserAdminPublic, tags=["users"])
def update_user(user_id: int, body: UserUpdate, session: SessionDep, user: AdminUser) -> UserAdminPublic:
    updated = user_admin.update_user(
        session, user_id=user_id, actor_id=user.id, **body.model_dump(exclude_unset=True)
    )
    return UserAdminPublic.model_validate(updated)
