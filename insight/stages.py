"""What a tasks module declares: the call stages it runs and the periodic jobs it schedules, as data.

A tasks module states ``STAGE = Stage(...)`` (or several) and ``SCHEDULES = (Schedule(...),)``; the registry in
``insight.pipeline`` puts the stages in order and lists the schedules, and the worker takes its handlers and
schedule threads from there. A stage handler returns its writer and knows nothing of the stages around it: the
registry chains the next stage in the writer's transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlmodel import Session

# Only types from the queue and runtime: domain services import this module for ``Change`` and ``StaleHook``
# without pulling in the queues.
if TYPE_CHECKING:
    from insight.queue import Handler
    from insight.runtime import Runtime
    from insight.settings import Settings

# Builds a job handler once per worker from the process's runtime (models, store, settings).
HandlerFactory = Callable[["Runtime"], "Handler"]


class Change(StrEnum):
    """A correction of a processed call that can make a stage's results stale."""

    speakers = "speakers"  # a user renamed speakers or fixed their roles
    recorded_at = "recorded_at"  # the recording time moved (relative dates in the minutes resolve against it)


# A domain service's way to say "what was derived from ``change`` of call ``call_id`` is stale", called inside the
# service's transaction; the orchestrating layer (``insight.pipeline``) decides what to run again. Returns the queues
# to wake after the commit.
StaleHook = Callable[[Session, int, Change], list[str]]


@dataclass(frozen=True)
class Stage:
    """One step of processing a call: a job per call on ``queue``, named ``name``.

    Attributes:
        name: the job name, ``"<domain>.<verb>"``; stored in the job table, so it never changes.
        queue: the queue its jobs run on.
        make_handler: builds the handler that does the work and returns its writer.
        weight: the stage's share of the call's overall progress.
        version: bump to run the stage again for every call after a model or logic change.
        redo_on: corrections of a processed call that make this stage's results stale; such a correction runs
            the stage again (and the stages after it).
    """

    name: str
    queue: str
    make_handler: HandlerFactory
    weight: float = 1.0
    version: int = 1
    redo_on: frozenset[Change] = frozenset()


@dataclass(frozen=True)
class Schedule:
    """A periodic job: one job ``name`` on ``queue`` per interval (off when the interval is 0).

    Attributes:
        name: the job name, ``"<domain>.<verb>"``; stored in the job table, so it never changes.
        queue: the queue its jobs run on; a worker consuming that queue runs the schedule.
        make_handler: builds the handler of its jobs.
        interval_s: the interval in seconds for the given settings (0: off).
    """

    name: str
    queue: str
    make_handler: HandlerFactory
    interval_s: Callable[[Settings], float]
