"""Queries on teams, users, API tokens and web sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from models import ApiToken, Team, User, WebSession


def get(session: Session, user_id: int) -> User | None:
    """The user with this id, active or not, or None."""
    return session.get(User, user_id)


def get_by_email(session: Session, email: str) -> User | None:
    """The user with this e-mail, compared case-insensitively and without surrounding spaces; None if none."""
    return session.exec(select(User).where(func.lower(User.email) == email.strip().lower())).first()


def add(session: Session, user: User) -> User:
    """Insert a user and flush, so its id is set."""
    session.add(user)
    session.flush()
    return user


def list_users(session: Session) -> list[User]:
    """Every user, deactivated ones included, in id order."""
    return list(session.exec(select(User).order_by(col(User.id))).all())


def count(session: Session) -> int:
    """How many users exist, deactivated ones included."""
    return int(session.exec(select(func.count()).select_from(User)).one())


def get_team(session: Session, team_id: int) -> Team | None:
    """The team with this id, or None."""
    return session.get(Team, team_id)


def get_team_by_name(session: Session, name: str) -> Team | None:
    """The team with exactly this name (case-sensitive), or None."""
    return session.exec(select(Team).where(Team.name == name)).first()


def add_team(session: Session, name: str) -> Team:
    """Insert a team called ``name`` and flush, so its id is set."""
    team = Team(name=name)
    session.add(team)
    session.flush()
    return team


def list_teams(session: Session) -> list[Team]:
    """Every team, in id order."""
    return list(session.exec(select(Team).order_by(col(Team.id))).all())


def team_of(session: Session, user_id: int | None) -> int | None:
    """The team id of user ``user_id``; None when ``user_id`` is None, the user is unknown or has no team."""
    if user_id is None:
        return None
    return session.exec(select(User.team_id).where(User.id == user_id)).first()


def add_token(session: Session, token: ApiToken) -> ApiToken:
    """Insert an API token row and flush, so its id is set."""
    session.add(token)
    session.flush()
    return token


def token_by_hash(session: Session, token_hash: str) -> ApiToken | None:
    """The token whose sha256 is ``token_hash``, in any state: the caller checks revocation and expiry."""
    return session.exec(select(ApiToken).where(ApiToken.token_hash == token_hash)).first()


def tokens_of(session: Session, user_id: int) -> list[ApiToken]:
    """Every API token of the user, revoked and expired ones included, in id order."""
    return list(session.exec(select(ApiToken).where(ApiToken.user_id == user_id).order_by(col(ApiToken.id))).all())


def get_token(session: Session, token_id: int) -> ApiToken | None:
    """The API token with this id, of any user and in any state, or None."""
    return session.get(ApiToken, token_id)


def revoke_tokens_of(session: Session, user_id: int, now: datetime) -> list[int]:
    """Revoke every live token of ``user_id``; returns their ids."""
    ids = list(
        session.exec(select(ApiToken.id).where(ApiToken.user_id == user_id, col(ApiToken.revoked_at).is_(None))).all()
    )
    if ids:
        session.execute(update(ApiToken).where(col(ApiToken.id).in_(ids)).values(revoked_at=now))
    return [i for i in ids if i is not None]


def touch_token(session: Session, token_id: int, now: datetime) -> None:
    """Record ``now`` as the token's last use."""
    session.execute(update(ApiToken).where(col(ApiToken.id) == token_id).values(last_used_at=now))


def add_session(session: Session, web: WebSession) -> WebSession:
    """Insert a web session row and flush, so its id is set."""
    session.add(web)
    session.flush()
    return web


def session_by_hash(session: Session, session_hash: str) -> WebSession | None:
    """The web session whose sha256 is ``session_hash``, expired or not (the caller checks ``expires_at``)."""
    return session.exec(select(WebSession).where(WebSession.session_hash == session_hash)).first()


def delete_session(session: Session, session_hash: str) -> None:
    """Delete the web session with this hash (a sign-out); nothing happens when there is none."""
    session.execute(delete(WebSession).where(col(WebSession.session_hash) == session_hash))


def delete_sessions_of(session: Session, user_id: int) -> None:
    """Delete every web session of the user, signing them out in every browser."""
    session.execute(delete(WebSession).where(col(WebSession.user_id) == user_id))


def delete_expired_sessions(session: Session, now: datetime) -> int:
    """Delete the web sessions that expired before ``now``. Returns how many were deleted."""
    result = session.execute(delete(WebSession).where(col(WebSession.expires_at) < now))
    return int(getattr(result, "rowcount", 0) or 0)
