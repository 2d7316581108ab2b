"""Prometheus metrics: jobs by state and queue (read from the job table at scrape time), job durations, real-time
factor, sync errors, HTTP requests.

Counters and histograms live in the process that observes them: the API process (with its embedded worker) serves
them at ``/metrics``; a standalone ``insight worker --metrics-port`` serves its own.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlmodel import Session

from insight.repositories import jobs as jobs_repo
from insight.settings import QUEUE_NAMES
from models import JobState

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)

JOB_DURATION = Histogram(
    "insight_job_duration_seconds",
    "Wall time of finished job attempts.",
    ["queue", "name", "outcome"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 10800),
    registry=REGISTRY,
)
REAL_TIME_FACTOR = Histogram(
    "insight_transcription_real_time_factor",
    "Audio seconds transcribed per second of processing (higher is faster).",
    buckets=(0.5, 1, 2, 4, 6, 8, 12, 16, 24, 32, 64, 128),
    registry=REGISTRY,
)
SYNC_ERRORS = Counter(
    "insight_sync_errors_total",
    "Failed synchronisations with a CRM/SFA or a data import, by connector and kind.",
    ["connector", "kind"],
    registry=REGISTRY,
)
HTTP_REQUESTS = Counter(
    "insight_http_requests_total", "HTTP requests served.", ["method", "route", "status"], registry=REGISTRY
)
HTTP_LATENCY = Histogram(
    "insight_http_request_duration_seconds",
    "HTTP request latency.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)


def record_sync_error(connector: str, kind: str) -> None:
    """Count one sync error of ``connector``; ``kind`` labels the kind of failure."""
    SYNC_ERRORS.labels(connector=connector, kind=kind).inc()


class JobStateCollector(Collector):
    """``insight_jobs{queue, state}`` counted in the job table at each scrape, so every worker's jobs show."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Yield the job gauge; when the database cannot be read, every count is 0 and a warning is logged."""
        family = GaugeMetricFamily(
            "insight_jobs", "Jobs in the job table by queue and state.", labels=["queue", "state"]
        )
        try:
            with Session(self.engine) as session:
                counts = jobs_repo.count_by_state(session)
        except Exception:  # noqa: BLE001 - a scrape reports what it can; the database check is /readyz's job
            log.warning("could not count jobs for /metrics", exc_info=True)
            counts = {}
        for queue in QUEUE_NAMES:
            for state in JobState:
                family.add_metric([queue, state.value], counts.get((queue, state.value), 0))
        yield family


def render(engine: Engine) -> bytes:
    """The exposition text: this process's metrics plus the job table's counts."""
    jobs = CollectorRegistry()
    jobs.register(JobStateCollector(engine))
    return generate_latest(REGISTRY) + generate_latest(jobs)
