"""API contracts for calls and transcripts (not tables)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ErrorPublic(BaseModel):
    """An error: a stable code, a message and a hint on what to do about it."""

    code: str
    message: str
    hint: str = ""


class ErrorBody(BaseModel):
    """The body of every error answer."""

    error: ErrorPublic


class JobPublic(BaseModel):
    """One processing job of a call (a pipeline stage on its queue): its state, attempts and error."""

    id: int
    name: str
    queue: str
    state: str
    attempt: int
    max_attempts: int
    progress: float
    error: str | None
    error_code: str | None
    started_at: datetime | None
    finished_at: datetime | None


class CallPublic(BaseModel):
    """A call: its recording, processing state, upload details, jobs and links."""

    id: int
    status: str = Field(description="queued, processing, done or failed")
    stage: str | None
    progress: float = Field(description="Percent of the current processing, 0-100")
    error: ErrorPublic | None
    filename: str
    sha256: str
    bytes: int
    media_format: str
    codec: str
    duration_s: float
    sample_rate: int
    channels: int
    dual_mono: bool
    language: str | None
    language_hint: str | None
    rep_channel: str | None = Field(description="left/right: the stereo channel of the sales rep")
    rep: str | None = Field(default=None, description="Who the rep is (user id or e-mail), as given at upload")
    owner_id: int | None = Field(default=None, description="The uploading user; null for calls from before accounts")
    purged: bool = Field(default=False, description="Audio and transcript removed by the retention policy")
    speakers_hint: int | None = Field(default=None, description="Number of speakers given at upload")
    customer_external_id: str | None
    deal_external_id: str | None
    processing_s: float | None
    recorded_at: datetime | None = Field(
        default=None, description="When the call took place, as given at upload (the minutes' reference date)"
    )
    created_at: datetime
    updated_at: datetime
    jobs: list[JobPublic] = []
    urls: dict[str, str] = {}


class CallUploadPublic(CallPublic):
    """The answer to an upload: the new call, or the existing one when these bytes were uploaded before."""

    duplicate: bool = Field(description="True when these exact bytes were uploaded before: this is that call")
    not_applied: list[str] = Field(
        default_factory=list,
        description="With duplicate: fields this upload gave differently from the existing call, which kept its own",
    )
    notice: str | None = Field(
        default=None, description="With duplicate: which call this is, what it kept and how to change that"
    )


class CallUpdate(BaseModel):
    """A correction of a call's details; absent or null fields are left alone."""

    customer_external_id: str | None = Field(default=None, max_length=255, description="Empty string: no customer")
    deal_external_id: str | None = Field(default=None, max_length=255, description="Empty string: no deal")
    recorded_at: datetime | None = Field(
        default=None, description="ISO 8601 with offset; the minutes are rewritten against it"
    )


class CallsPublic(BaseModel):
    """A page of the calls the caller may see, with the total count."""

    data: list[CallPublic]
    count: int
    offset: int
    limit: int


class WordPublic(BaseModel):
    """A recognised word with its times (seconds from the start of the recording) and confidence (0-1)."""

    start: float
    end: float
    text: str
    probability: float


class UtterancePublic(BaseModel):
    """One utterance of a transcript: who spoke, when (seconds from the start) and what, word by word."""

    id: int
    idx: int
    start: float
    end: float
    channel: int | None
    speaker: str = Field(description="S1, S2 … (stereo: S1 = left channel)")
    speaker_name: str | None = Field(default=None, description="A name a user gave the speaker")
    role: str | None = Field(description="rep / customer / other when known")
    language: str | None
    text: str
    words: list[WordPublic]


class TranscriptPublic(BaseModel):
    """A call's transcript in the view the caller may read (original or redacted)."""

    call_id: int
    status: str
    language: str | None
    duration_s: float
    view: str = Field(default="original", description="original, or redacted (personal data replaced; no words)")
    utterances: list[UtterancePublic]
