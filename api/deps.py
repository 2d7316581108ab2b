"""Request-scoped dependencies as Annotated aliases.

Dependencies that do no I/O are ``async def``: FastAPI runs a sync dependency in the thread pool, and every such
hop costs a thread switch under the GIL, which under load is most of a light request's time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from insight.runtime import Runtime


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[Session]:
    """A read session per request (writes go through services that own their transaction).

    Opening it does no I/O (the connection is taken on first use, in the endpoint's thread); closing it returns the
    connection to the pool with a rollback of the read transaction, which is short enough to do here.
    """
    with Session(runtime.engine, expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
