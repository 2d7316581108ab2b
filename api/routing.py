"""The route class every router uses: sync endpoints give their database connection back before their thread does.

FastAPI runs a sync endpoint in the thread pool and then, for its response model, takes another thread to
serialise the answer; the request's session would hold its pooled connection across that wait. When every request
thread is waiting for a pooled connection and every pooled connection belongs to a request waiting for a thread,
nothing moves until the pool times out. Closing the request's sessions as the endpoint returns, in its own thread,
means a connection is only ever held by a thread that is running.

The same class also refuses integers the database cannot hold: a path, query, header or cookie parameter declared as
an ``int`` must fit a signed 64-bit column, checked before any dependency runs (a larger id would otherwise reach the
database driver and fail there as a server error).
"""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, Union, get_args, get_origin

from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from api.auth import guard_before_body

# The range of the database's BIGINT (and of SQLite's INTEGER): every id, offset and limit must fit in it.
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
_INT = TypeAdapter(int)  # parses exactly as the parameters themselves are parsed (" 12 ", "1_000", "+5")


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


def _is_int(annotation: Any) -> bool:
    """``int``, ``int | None`` or ``Optional[int]`` (bool is its own annotation, so it is not counted)."""
    if annotation is int:
        return True
    if get_origin(annotation) in (Union, types.UnionType):
        return any(a is int for a in get_args(annotation))
    return False


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _walk(sub)


def int_parameters(dependant: Dependant) -> list[tuple[str, str]]:
    """``(location, name)`` of every integer path, query, header and cookie parameter of a route and its
    dependencies.
    """
    found: list[tuple[str, str]] = []
    for dep in _walk(dependant):
        for where, fields in (
            ("path", dep.path_params),
            ("query", dep.query_params),
            ("header", dep.header_params),
            ("cookie", dep.cookie_params),
        ):
            for f in fields:
                key = (where, f.alias)
                if _is_int(f.field_info.annotation) and key not in found:
                    found.append(key)
    return found


def _raw_values(request: Request, where: str, name: str) -> list[str]:
    if where == "path":
        value = request.path_params.get(name)
        return [] if value is None else [str(value)]
    if where == "query":
        return request.query_params.getlist(name)
    if where == "header":
        return request.headers.getlist(name)
    value = request.cookies.get(name)
    return [] if value is None else [value]


def out_of_range(request: Request, params: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Validation errors (FastAPI's shape) for integer parameters outside the signed 64-bit range."""
    errors: list[dict[str, Any]] = []
    for where, name in params:
        for raw in _raw_values(request, where, name):
            try:
                value = _INT.validate_python(raw)
            except ValidationError:
                continue  # not an integer at all: the parameter's own validation answers
            if value > INT64_MAX:
                errors.append(
                    {
                        "type": "less_than_equal",
                        "loc": (where, name),
                        "msg": f"Input should be less than or equal to {INT64_MAX}",
                        "input": raw,
                        "ctx": {"le": INT64_MAX},
                    }
                )
            elif value < INT64_MIN:
                errors.append(
                    {
                        "type": "greater_than_equal",
                        "loc": (where, name),
                        "msg": f"Input should be greater than or equal to {INT64_MIN}",
                        "input": raw,
                        "ctx": {"ge": INT64_MIN},
                    }
                )
    return errors


class Route(APIRoute):
    """An APIRoute whose sync endpoint releases its database sessions in its own thread, and whose integer
    parameters must fit 64 bits (see the module doc).
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not (inspect.iscoroutinefunction(endpoint) or inspect.isasyncgenfunction(endpoint)):
            endpoint = release_sessions(endpoint)
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler, preceded by the area guard (routes with a body) and the 64-bit check of integers."""
        # A guarded route checks credentials before it reads its body (an anonymous upload is not taken in).
        handler = guard_before_body(self, super().get_route_handler())
        params = int_parameters(self.dependant)
        if not params:
            return handler

        async def checked(request: Request) -> Response:
            # Before any dependency: the router's guard itself looks the call of a {call_id} route up.
            errors = out_of_range(request, params)
            if errors:
                raise RequestValidationError(errors)
            return await handler(request)

        return checked
