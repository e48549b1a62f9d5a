"""Admin account management: look a user up and change their roles (audited). A role
change signs the user out everywhere, so their next tokens carry the new roles."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from aujobs_common.app import runtime_of
from aujobs_common.errors import PROBLEM_RESPONSES, ProblemError

from . import audit, service
from .api import Admin, _denylist, client_of
from .audit import AuditKind
from .models import User
from .schemas import UserOut

router = APIRouter(prefix="/api/v1/auth/users", tags=["auth admin"], responses=PROBLEM_RESPONSES)

Role = Literal["job_seeker", "employer", "admin"]


class RolesUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    roles: Annotated[list[Role], Field(min_length=1, max_length=3)]

    @field_validator("roles")
    @classmethod
    def distinct(cls, roles: list[str]) -> list[str]:
        return sorted(set(roles))


async def _user(session, user_id: uuid.UUID, *, lock: bool = False) -> User:  # type: ignore[no-untyped-def]
    user = await session.get(User, user_id, with_for_update=lock)
    if user is None:
        raise ProblemError(404, "No such user.", type_="user-not-found")
    return user


@router.get("/{user_id}", response_model=UserOut, summary="A user (admins)")
async def get_user(user_id: uuid.UUID, request: Request, admin: Admin) -> UserOut:
    async with runtime_of(request).db.session() as session:
        return service.user_out(await _user(session, user_id))


@router.put("/{user_id}/roles", response_model=UserOut, summary="Set a user's roles (admins)")
async def set_roles(user_id: uuid.UUID, body: RolesUpdate, request: Request, admin: Admin) -> UserOut:
    if user_id == admin.user_id and "admin" not in body.roles:
        raise ProblemError(409, "Admins cannot remove their own admin role.", type_="own-admin-role")
    runtime = runtime_of(request)
    async with runtime.db.transaction() as session:
        user = await _user(session, user_id, lock=True)
        before = sorted(user.roles)
        revoked = []
        if before != body.roles:
            user.roles = body.roles
            revoked = await service.revoke_sessions(session=session, user_id=user.id, reason="roles_changed")
            await audit.record(
                session,
                AuditKind.role_changed,
                client=client_of(request),
                user_id=user.id,
                actor_id=admin.user_id,
                before=before,
                after=body.roles,
            )
        out = service.user_out(user)
    await _denylist(request, revoked)
    return out
