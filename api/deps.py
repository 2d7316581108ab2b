"""Request-scoped dependencies as Annotated aliases.

Dependencies that do no I/O are ``async def``: FastAPI runs a sync dependency in the thread pool, and every such
hop costs a thread switch under the GIL, which under load is most of a light request's time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import anyio
import anyio.to_thread
from fastapi import Depends, Request
from sqlmodel import Session

from insight.runtime import Runtime


async def get_runtime(request: Request) -> Runtime:
    """The app's runtime (settings, engine, store, queues), set up by the lifespan in ``api.main``."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[Session]:
    """A read session per request (writes go through services that own their transaction).

    Opening it does no I/O (the connection is taken on first use, in the endpoint's thread). Closing it rolls back
    the read transaction: a local SQLite file does that in microseconds, here; a database server is across a
    network that may stall, so there it happens in the thread pool and never holds up the event loop.
    """
    session = Session(runtime.engine, expire_on_commit=False)
    try:
        yield session
    finally:
        if runtime.engine.dialect.name == "sqlite":
            session.close()
        else:
            # Not on the request threads' limiter: when every request thread is waiting for a pooled connection,
            # the close that returns one must not wait for a request thread (a deadlock until the pool times out).
            # Shielded, so a cancelled request still returns its connection.
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(session.close, limiter=anyio.CapacityLimiter(1))


SessionDep = Annotated[Session, Depends(get_session)]
