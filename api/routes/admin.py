"""Administration: users and roles, tokens for other users (sync jobs), call owners, the audit log (and its
export), retention runs and customer erasure. Every route needs the admin scope (see api/main.py).
"""

from __future__ import annotations

import io
import json
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from api.auth import ActorDep
from api.deps import RuntimeDep, SessionDep
from api.routes.account import ERRORS, token_policy, token_public, user_public
from api.routing import Route
from api.schemas.auth import (
    AuditEventPublic,
    AuditEventsPublic,
    CallOwnerUpdate,
    ErasureReport,
    RetentionReport,
    TokenCreate,
    TokenCreated,
    UnlockReport,
    UserCreate,
    UserPublic,
    UserUpdate,
)
from insight import audit, csvsafe
from insight.auth import lockout
from insight.auth import service as auth_service
from insight.calls import view as call_view
from insight.customers import service as customers_service
from insight.db import session_scope
from insight.errors import InvalidRequest, NotFound
from insight.repositories import audit as audit_repo
from insight.repositories import calls as calls_repo
from insight.repositories import users as users_repo
from insight.retention import service as retention_service

router = APIRouter(prefix="/api/admin", tags=["admin"], route_class=Route)


@router.get("/users", response_model=list[UserPublic], responses=ERRORS)
def list_users(session: SessionDep) -> list[UserPublic]:
    """Every user with role and team."""
    return [user_public(session, u) for u in users_repo.list_users(session)]


@router.post("/users", status_code=201, response_model=UserPublic, responses={**ERRORS, 409: ERRORS[400]})
def create_user(body: UserCreate, runtime: RuntimeDep, actor: ActorDep) -> UserPublic:
    """Create a user (without a password the user can only use API tokens)."""
    with session_scope(runtime.engine) as session:
        user = auth_service.create_user(
            session, actor, email=body.email, role=body.role, team=body.team, password=body.password, name=body.name
        )
        return user_public(session, user)


@router.patch("/users/{user_id}", response_model=UserPublic, responses=ERRORS)
def update_user(user_id: int, body: UserUpdate, runtime: RuntimeDep, actor: ActorDep) -> UserPublic:
    """Change a user's role (audited), team, name, password or active flag."""
    with session_scope(runtime.engine) as session:
        user = auth_service.update_user(
            session,
            actor,
            user_id,
            role=body.role,
            team=body.team or None,
            clear_team=body.team == "",
            active=body.active,
            password=body.password,
            name=body.name,
            keep_tokens=body.keep_tokens,
        )
        return user_public(session, user)


@router.post("/users/{user_id}/unlock", response_model=UnlockReport, responses=ERRORS)
def unlock_user(
    user_id: int,
    runtime: RuntimeDep,
    actor: ActorDep,
    address: Annotated[str | None, Query(max_length=64, description="Only this client address")] = None,
) -> UnlockReport:
    """Clear the waits imposed after failed sign-ins for this user's e-mail (from every address, or one)."""
    with session_scope(runtime.engine) as session:
        user = users_repo.get(session, user_id)
        if user is None:
            raise NotFound(
                f"User {user_id} does not exist.",
                hint="List users with GET /api/admin/users.",
                object_type="user",
                object_id=user_id,
            )
        cleared = lockout.unlock(session, user.email, address=address)
        audit.record(
            session,
            actor,
            audit.Action.login_unlock,
            object_type="user",
            object_id=user_id,
            details={"cleared": cleared, **({"address": address} if address else {})},
        )
        return UnlockReport(user_id=user_id, email=user.email, cleared=cleared)


@router.post("/users/{user_id}/tokens", status_code=201, response_model=TokenCreated, responses=ERRORS)
def create_token_for(user_id: int, body: TokenCreate, runtime: RuntimeDep, actor: ActorDep) -> TokenCreated:
    """Issue a token for another user (e.g. a sync service account); shown once."""
    with session_scope(runtime.engine) as session:
        user = users_repo.get(session, user_id)
        if user is None:
            raise NotFound(
                f"User {user_id} does not exist.",
                hint="List users with GET /api/admin/users.",
                object_type="user",
                object_id=user_id,
            )
        token, plaintext = auth_service.create_token(
            session,
            actor,
            user,
            name=body.name,
            scopes=body.scopes,
            expires_days=body.expires_days,
            policy=token_policy(runtime),
            by_admin=True,
        )
        return TokenCreated(**token_public(token).model_dump(), token=plaintext)


@router.put("/calls/{call_id}/owner", status_code=204, responses=ERRORS)
def assign_owner(call_id: int, body: CallOwnerUpdate, runtime: RuntimeDep, actor: ActorDep) -> Response:
    """Give a call an owner (calls from before accounts existed have none and are visible to admins only)."""
    with session_scope(runtime.engine) as session:
        call_view.get_call(session, call_id)
        if users_repo.get(session, body.owner_id) is None:
            raise InvalidRequest(f"User {body.owner_id} does not exist.", hint="List users with GET /api/admin/users.")
        calls_repo.update_fields(session, call_id, owner_id=body.owner_id)
        audit.record(
            session,
            actor,
            audit.Action.call_assign,
            object_type="call",
            object_id=call_id,
            details={"owner_id": body.owner_id},
        )
    return Response(status_code=204)


def _events(
    session: SessionDep, offset: int, limit: int, action: str | None, actor_user_id: int | None, since: datetime | None
) -> AuditEventsPublic:
    rows, count = audit_repo.list_page(
        session, offset=offset, limit=limit, action=action, actor_user_id=actor_user_id, since=since
    )
    return AuditEventsPublic(
        data=[AuditEventPublic.model_validate(e, from_attributes=True) for e in rows],
        count=count,
        offset=offset,
        limit=limit,
    )


@router.get("/audit", response_model=AuditEventsPublic, responses=ERRORS)
def audit_log(
    session: SessionDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    action: Annotated[str | None, Query(max_length=64)] = None,
    actor_user_id: Annotated[int | None, Query()] = None,
    since: Annotated[datetime | None, Query()] = None,
) -> AuditEventsPublic:
    """The audit log, newest first."""
    return _events(session, offset, limit, action, actor_user_id, since)


@router.get("/audit.csv", responses={200: {"content": {"text/csv": {}}}, **ERRORS})
def audit_export(
    runtime: RuntimeDep,
    session: SessionDep,
    actor: ActorDep,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
    since: Annotated[datetime | None, Query()] = None,
) -> Response:
    """Export the audit log as CSV (the export itself is audited)."""
    page = _events(session, 0, limit, None, None, since)
    out = io.StringIO()
    writer = csvsafe.writer(out)  # e-mails of failed sign-ins and file names are typed by anyone: no formulas
    writer.writerow(
        [
            "id",
            "at",
            "actor",
            "actor_user_id",
            "action",
            "object_type",
            "object_id",
            "outcome",
            "ip",
            "request_id",
            "details",
        ]
    )
    for e in page.data:
        writer.writerow(
            [
                e.id,
                e.at.isoformat(),
                e.actor,
                e.actor_user_id,
                e.action,
                e.object_type,
                e.object_id,
                e.outcome,
                e.ip,
                e.request_id,
                json.dumps(e.details, ensure_ascii=False),
            ]
        )
    audit.record_now(
        runtime.engine, actor, audit.Action.export, object_type="audit_log", details={"rows": len(page.data)}
    )
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )


@router.post("/retention/run", response_model=RetentionReport, responses=ERRORS)
async def run_retention(runtime: RuntimeDep, actor: ActorDep) -> RetentionReport:
    """Apply the retention policy now (INSIGHT_RETENTION_DAYS; nothing happens when it is 0)."""
    report = await run_in_threadpool(
        retention_service.purge_expired,
        runtime.engine,
        runtime.store,
        days=runtime.settings.retention_days,
        actor=actor,
    )
    return RetentionReport(
        calls_purged=report.calls_purged, audio_files_deleted=report.audio_files_deleted, cutoff=report.cutoff
    )


@router.delete("/customers/{customer_id}", response_model=ErasureReport, responses=ERRORS)
async def erase_customer(customer_id: int, runtime: RuntimeDep, actor: ActorDep) -> ErasureReport:
    """Erase one customer and everything about them: calls with audio and transcripts, deals, purchases, ids."""
    report = await run_in_threadpool(
        customers_service.erase_customer, runtime.engine, runtime.store, customer_id, actor=actor
    )
    return ErasureReport(
        customer_id=customer_id, rows_deleted=report.rows_deleted, audio_files_deleted=report.audio_files_deleted
    )
