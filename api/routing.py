"""The route class every router uses: sync endpoints give their database connection back before their thread does.

FastAPI runs a sync endpoint in the thread pool and then, for its response model, takes another thread to
serialise the answer; the request's session would hold its pooled connection across that wait. When every request
thread is waiting for a pooled connection and every pooled connection belongs to a request waiting for a thread,
nothing moves until the pool times out. Closing the request's sessions as the endpoint returns, in its own thread,
means a connection is only ever held by a thread that is running.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from sqlmodel import Session


def release_sessions(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """``endpoint`` closing every Session it was given when it returns (FastAPI sees the original signature)."""

    @functools.wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return endpoint(*args, **kwargs)
        finally:
            for value in kwargs.values():
                if isinstance(value, Session):
                    value.close()

    return run


class Route(APIRoute):
    """An APIRoute whose sync endpoint releases its database sessions in its own thread (see the module doc)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not (inspect.iscoroutinefunction(endpoint) or inspect.isasyncgenfunction(endpoint)):
            endpoint = release_sessions(endpoint)
        super().__init__(path, endpoint, **kwargs)
