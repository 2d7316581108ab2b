"""Per-process resources: the database engine, the audio store, the queues and the (lazily loaded) models."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sqlalchemy import Engine

from insight.db import make_engine, migrate
from insight.queue import Queues
from insight.settings import Settings
from insight.storage import AudioStore
from insight.transcribe.engine import Transcriber, WhisperTranscriber
from insight.transcribe.provision import resolve_whisper_model
from insight.transcribe.types import TranscribeOptions


@dataclass
class Runtime:
    """Everything a request handler or a job needs, built once from settings at a composition root."""

    settings: Settings
    engine: Engine
    store: AudioStore
    queues: Queues
    _transcriber: Transcriber | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def build(cls, settings: Settings, *, run_migrations: bool = True) -> Runtime:
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

    def transcriber(self) -> Transcriber:
        """The ASR model, loaded on first use and shared by every job of this process."""
        with self._lock:
            if self._transcriber is None:
                s = self.settings
                path = resolve_whisper_model(s.whisper_model, s.models_dir, allow_download=s.allow_model_download)
                self._transcriber = WhisperTranscriber(
                    path,
                    device=s.device,
                    compute_type=s.whisper_compute_type,
                    cpu_threads=s.cpu_threads,
                    allow_download=s.allow_model_download,
                )
            return self._transcriber

    def set_transcriber(self, transcriber: Transcriber) -> None:
        with self._lock:
            self._transcriber = transcriber

    def transcribe_options(self) -> TranscribeOptions:
        s = self.settings
        return TranscribeOptions(beam_size=s.whisper_beam_size, batch_size=s.whisper_batch_size, window_s=s.window_s)

    def close(self) -> None:
        self.engine.dispose()
