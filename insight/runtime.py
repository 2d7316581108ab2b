"""Per-process resources: the database engine, the audio store, the queues and the (lazily loaded) models."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from insight.db import make_engine, migrate
from insight.model_holder import Models
from insight.queue import Queues
from insight.settings import Settings
from insight.storage import AudioStore
from insight.transcribe.types import TranscribeOptions


@dataclass
class Runtime:
    """Everything a request handler or a job needs, built once from settings at a composition root."""

    settings: Settings
    engine: Engine
    store: AudioStore
    queues: Queues
    # The models every job of this runtime uses (loaded lazily, once per process); built from settings when not given.
    models: Models = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.models is None:
            self.models = Models(self.settings)

    @classmethod
    def build(cls, settings: Settings, *, run_migrations: bool = True) -> Runtime:
        """Create the data dir, database engine (migrated unless ``run_migrations`` is False), audio store, queues."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(
            settings.resolved_database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout_s=settings.db_pool_timeout_s,
        )
        if run_migrations:
            migrate(engine)
        store = AudioStore(settings.audio_dir, settings.tmp_dir)
        return cls(settings=settings, engine=engine, store=store, queues=Queues(settings))

    def transcribe_options(self) -> TranscribeOptions:
        """Transcription options (beam size, batch size, window length) from the settings."""
        s = self.settings
        return TranscribeOptions(beam_size=s.whisper_beam_size, batch_size=s.whisper_batch_size, window_s=s.window_s)

    def close(self) -> None:
        """Dispose of the database engine's connection pool."""
        self.engine.dispose()
