"""Signing in and out (JSON, for scripts and single-page clients), the current principal, one's own API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlmodel import Session

from api.auth import ActorDep, PrincipalDep, cookie_name
from api.deps import RuntimeDep, SessionDep
from api.routing import Route
from api.schemas.auth import LoginIn, MePublic, TokenCreate, TokenCreated, TokenPublic, UserPublic
from api.schemas.calls import ErrorBody
from api.sessions import end_session, set_session_cookie, sign_in
from insight.auth import service as auth_service
from insight.auth.policy import Principal
from insight.db import session_scope
from insight.errors import Forbidden, NotFound
from insight.repositories import users as users_repo
from insight.runtime import Runtime
from models import ApiToken, User

router = APIRouter(prefix="/api/auth", tags=["account"], route_class=Route)  # guarded (any signed-in principal)
public = APIRouter(prefix="/api/auth", tags=["account"], route_class=Route)  # sign-in

ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorBody, "description": "Invalid values"},
    401: {"model": ErrorBody, "description": "Not signed in, or wrong credentials"},
    403: {"model": ErrorBody, "description": "Not allowed"},
    404: {"model": ErrorBody, "description": "No such token"},
    429: {"model": ErrorBody, "description": "Too many attempts"},
}


def user_public(session: Session, user: User) -> UserPublic:
    """The API view of ``user``, with its team's name."""
    assert user.id is not None
    team = users_repo.get_team(session, user.team_id) if user.team_id is not None else None
    return UserPublic(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        team=team.name if team else None,
        active=user.active,
        created_at=user.created_at,
    )


def token_policy(runtime: Runtime) -> auth_service.TokenPolicy:
    """The limits on token lifetimes (INSIGHT_TOKEN_MAX_DAYS, INSIGHT_TOKEN_ALLOW_NO_EXPIRY)."""
    settings = runtime.settings
    return auth_service.TokenPolicy(max_days=settings.token_max_days, allow_no_expiry=settings.token_allow_no_expiry)


def token_public(token: ApiToken) -> TokenPublic:
    """The API view of a token: its prefix and metadata, never the token itself."""
    assert token.id is not None
    return TokenPublic.model_validate(token, from_attributes=True)


def _me(session: Session, principal: Principal, csrf: str | None) -> MePublic:
    user = users_repo.get(session, principal.user_id)
    assert user is not None
    return MePublic(
        user=user_public(session, user),
        scopes=sorted(principal.scopes),
        via="token" if principal.token_id is not None else "session",
        csrf_token=csrf,
    )


@public.post("/login", response_model=MePublic, responses=ERRORS)
def login(body: LoginIn, request: Request, response: Response, runtime: RuntimeDep, session: SessionDep) -> MePublic:
    """Sign in with e-mail and password: sets the session cookie; send the returned csrf_token as X-CSRF-Token."""
    value, principal = sign_in(request, runtime, body.email, body.password)
    set_session_cookie(response, runtime, value)
    return _me(session, principal, auth_service.csrf_token(runtime.settings.secret_key.get_secret_value(), value))


@router.post("/logout", status_code=204, responses=ERRORS)
def logout(request: Request, runtime: RuntimeDep, principal: PrincipalDep) -> Response:
    """End this browser session."""
    response = Response(status_code=204)
    end_session(request, runtime, response)
    return response


@router.get("/me", response_model=MePublic, responses=ERRORS)
def me(request: Request, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep) -> MePublic:
    """Who you are, your role and team, and the scopes in force for this request."""
    cookie = request.cookies.get(cookie_name(runtime))
    csrf = None
    if principal.session_id is not None and cookie:
        csrf = auth_service.csrf_token(runtime.settings.secret_key.get_secret_value(), cookie)
    return _me(session, principal, csrf)


@router.get("/tokens", response_model=list[TokenPublic], responses=ERRORS)
def list_tokens(session: SessionDep, principal: PrincipalDep) -> list[TokenPublic]:
    """Your API tokens (without the tokens themselves)."""
    return [token_public(t) for t in users_repo.tokens_of(session, principal.user_id)]


@router.post("/tokens", status_code=201, response_model=TokenCreated, responses=ERRORS)
def create_token(body: TokenCreate, runtime: RuntimeDep, principal: PrincipalDep, actor: ActorDep) -> TokenCreated:
    """Create an API token for yourself; the token is in this response only. Signed-in users and admin tokens only,
    so a leaked token cannot mint longer-lived ones.
    """
    if principal.token_id is not None and "admin" not in principal.scopes:
        raise Forbidden(
            "A token cannot create tokens.",
            hint="Sign in to the web UI, or use `insight tokens create`.",
            code="forbidden",
        )
    with session_scope(runtime.engine) as session:
        user = users_repo.get(session, principal.user_id)
        assert user is not None
        token, plaintext = auth_service.create_token(
            session,
            actor,
            user,
            name=body.name,
            scopes=body.scopes,
            expires_days=body.expires_days,
            policy=token_policy(runtime),
            by_admin="admin" in principal.scopes,
        )
        return TokenCreated(**token_public(token).model_dump(), token=plaintext)


@router.delete("/tokens/{token_id}", status_code=204, responses=ERRORS)
def revoke_token(token_id: int, runtime: RuntimeDep, principal: PrincipalDep, actor: ActorDep) -> Response:
    """Revoke one of your tokens (admins: anyone's)."""
    with session_scope(runtime.engine) as session:
        token = users_repo.get_token(session, token_id)
        if token is None or (token.user_id != principal.user_id and not principal.is_admin):
            raise NotFound(
                f"Token {token_id} does not exist.",
                hint="List your tokens with GET /api/auth/tokens.",
                object_type="token",
                object_id=token_id,
            )
        auth_service.revoke_token(session, actor, token)
    return Response(status_code=204)
