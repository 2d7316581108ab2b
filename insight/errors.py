"""Errors raised by the insight core.

Every error a caller can act on has its own subclass carrying a stable ``code``, a human ``message`` and a
``hint`` saying what to do. ``api/errors.py`` maps them to HTTP statuses; the CLI and the worker print them.
"""

from __future__ import annotations


class InsightError(Exception):
    """Root of all insight errors."""

    code = "insight_error"

    def __init__(self, message: str, *, hint: str = "", code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if code is not None:
            self.code = code

    def to_dict(self) -> dict[str, str]:
        """The error as the JSON body of an API error response (``code``, ``message``, ``hint``)."""
        return {"code": self.code, "message": self.message, "hint": self.hint}


class InvalidUpload(InsightError):
    """The upload request itself is unusable (empty file, bad file name, missing fields)."""

    code = "invalid_upload"


class UploadTooLarge(InsightError):
    """The uploaded file is over the configured size cap."""

    code = "upload_too_large"


class UnsupportedMediaType(InsightError):
    """The bytes are not an audio or video container we can read (an image, text, random bytes)."""

    code = "unsupported_media_type"


class InvalidAudio(InsightError):
    """The container was recognised but its audio cannot be used (truncated, no audio track, undecodable)."""

    code = "invalid_audio"


class ObjectError(InsightError):
    """An error about one stored object, which it names by ``object_type`` ("call", "customer", "user" …) and
    ``object_id``, for logs and callers; the answer's body stays ``{code, message, hint}``.
    """

    def __init__(
        self,
        message: str,
        *,
        hint: str = "",
        code: str | None = None,
        object_type: str | None = None,
        object_id: int | str | None = None,
    ) -> None:
        super().__init__(message, hint=hint, code=code)
        self.object_type = object_type
        self.object_id = object_id


class NotFound(ObjectError):
    """A requested object does not exist (or is not one the caller may see)."""

    code = "not_found"


class Conflict(InsightError):
    """The request conflicts with the object's current state (e.g. retrying a call that has not failed)."""

    code = "conflict"


class InvalidImport(InsightError):
    """A data file cannot be imported (unreadable, missing columns, bad rows); nothing was imported.

    ``report`` (an ``insight.crm_sync.importer.ImportReport``) lists every rejected row when rows were read.
    """

    code = "invalid_import"

    def __init__(self, message: str, *, hint: str = "", code: str | None = None, report: object = None) -> None:
        super().__init__(message, hint=hint, code=code)
        self.report = report


class InvalidSegmentDefinition(InsightError):
    """A segment definition change is inconsistent (score ranges outside 1-5 or min above max)."""

    code = "invalid_segment_definition"


class InvalidTracker(InsightError):
    """A tracker definition is unusable (no name or phrases, an unknown side, a threshold outside (0, 1])."""

    code = "invalid_tracker"


class InsufficientData(InsightError):
    """There is too little data for the computation asked for (topics need some utterances to fit on)."""

    code = "insufficient_data"


class ModelNotAvailable(InsightError):
    """A model's files are missing or corrupt and cannot be provisioned offline."""

    code = "model_not_available"


class JobTimeout(InsightError):
    """A job ran past its time limit; it is retried, then failed."""

    code = "job_timeout"


class RetryableError(InsightError):
    """A transient failure (database connection lost, broker unavailable); the job is retried."""

    code = "retryable"


class Unauthorized(InsightError):
    """No valid credentials: no token or session, or an expired, revoked or unknown one."""

    code = "unauthorized"


class Forbidden(ObjectError):
    """Valid credentials without the right to do this (a missing scope, a role, originals of another's call)."""

    code = "forbidden"


class RateLimited(InsightError):
    """Too many requests for one token or session (or too many sign-in attempts); ``retry_after_s`` says when."""

    code = "rate_limited"

    def __init__(self, message: str, *, hint: str = "", code: str | None = None, retry_after_s: float = 1.0) -> None:
        super().__init__(message, hint=hint, code=code)
        self.retry_after_s = retry_after_s


class Unavailable(InsightError):
    """A dependency (the database, the queue) is briefly unreachable; the same request can be retried."""

    code = "unavailable"


class InvalidRequest(InsightError):
    """A request's values are unusable (an unknown role, a weak password, a malformed e-mail address)."""

    code = "invalid_request"
