"""Queue handler and schedule for the nightly win-pattern recomputation (``patterns.compute`` on ``analyze``).

Like the segment recomputation, the schedule submits one job per period; the job computes a run for each
segmentation of ``patterns_segmentations``. An RFM or decile segmentation without any segment run yet is skipped
(logged), so a fresh installation does not fail the job every night.
"""

from __future__ import annotations

import logging

from sqlmodel import Session

from insight.errors import NotFound
from insight.patterns.service import compute_patterns
from insight.queue import Apply, Handler, JobContext
from insight.runtime import Runtime
from insight.stages import Schedule
from models import Job

log = logging.getLogger(__name__)


def make_handler(runtime: Runtime) -> Handler:
    """The ``patterns.compute`` job handler: one pattern run per configured segmentation, triggered as ``periodic``.

    Each run commits itself, so the job has nothing to apply when it ends.
    """

    def handle(job: Job, ctx: JobContext) -> Apply:
        for segmentation in runtime.settings.patterns_segmentations:
            ctx.check()
            try:
                compute_patterns(runtime.engine, segmentation=segmentation, trigger="periodic")
            except NotFound as exc:
                log.info("win patterns for %s skipped: %s", segmentation, exc)

        def apply(session: Session) -> list[str]:
            return []

        return apply

    return handle


SCHEDULES = (
    # Nightly by default (``patterns_interval_s``; off when 0).
    Schedule(
        name="patterns.compute",
        queue="analyze",
        make_handler=make_handler,
        interval_s=lambda settings: settings.patterns_interval_s,
    ),
)
