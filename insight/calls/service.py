"""Intake of an uploaded recording: validate, store by sha256, create the call and its first job atomically."""

from __future__ import annotations

import logging
import time
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from insight import pipeline
from insight.auth import policy
from insight.calls.view import get_call
from insight.customers import deals
from insight.db import session_scope
from insight.errors import Forbidden, InvalidAudio, InvalidUpload
from insight.repositories import calls as calls_repo
from insight.repositories import customers as customers_repo
from insight.repositories import users as users_repo
from insight.runtime import Runtime
from insight.stages import Change, StaleHook
from insight.transcribe.audio_probe import AudioInfo, probe_audio
from insight.transcribe.formats import media_kind, with_extension
from models import Call, User

log = logging.getLogger(__name__)

MAX_FILENAME_BYTES = 255
DB_ATTEMPTS = 3
# Whisper's language codes (faster_whisper.tokenizer._LANGUAGE_CODES), kept here so the API need not import it.
LANGUAGES = frozenset(
    "af am ar as az ba be bg bn bo br bs ca cs cy da de el en es et eu fa fi fo fr gl gu ha haw he hi hr ht hu hy "
    "id is it ja jw ka kk km kn ko la lb ln lo lt lv mg mi mk ml mn mr ms mt my ne nl nn no oc pa pl ps pt ro ru "
    "sa sd si sk sl sn so sq sr su sv sw ta te tg th tk tl tr tt uk ur uz vi yi yo zh yue".split()
)


@dataclass(frozen=True)
class UploadMeta:
    """What the uploader may tell us about a recording."""

    filename: str
    customer_external_id: str | None = None
    deal_external_id: str | None = None
    language: str | None = None
    rep_channel: str | None = None  # "left"/"right" or "0"/"1"
    rep: str | None = None  # who the rep is (their user id or e-mail): voice-profile matching
    speakers: int | None = None  # known number of speakers (mono diarization)
    owner_id: int | None = None  # the uploading user: who may see the call (see insight.auth.policy)
    recorded_at: datetime | None = None  # when the call took place: the minutes resolve "next Friday" against it


@dataclass(frozen=True)
class IngestResult:
    """The outcome of an upload: the call, and whether it was created (False: an earlier call with the same audio)."""

    call: Call
    created: bool


def check_filename(name: str) -> str:
    """Reject file names that try to address the file system or carry control characters."""
    if not name or not name.strip():
        raise InvalidUpload("The upload has no file name.", hint="Send the file as multipart field 'file' with a name.")
    if "/" in name or "\\" in name or name in {".", ".."} or ".." in name.split("."):
        raise InvalidUpload(
            f"The file name {name!r} contains a path.",
            hint="Send only the file's own name (e.g. call.wav), without directories or '..'.",
            code="invalid_filename",
        )
    if any("\x80" <= ch <= "\x9f" for ch in name):
        # Bytes that are not UTF-8 (e.g. a Shift_JIS name) reach us decoded as Latin-1, where they become C1 controls.
        raise InvalidUpload(
            "The file name is not UTF-8 text (for example, a Shift_JIS name).",
            hint="Rename the file, or send the name encoded as UTF-8.",
            code="invalid_filename",
        )
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Cs"} for ch in name):
        raise InvalidUpload(
            "The file name contains control characters.",
            hint="Rename the file using printable characters only.",
            code="invalid_filename",
        )
    if len(name.encode("utf-8", "surrogatepass")) > MAX_FILENAME_BYTES:
        raise InvalidUpload(
            "The file name is longer than 255 bytes.",
            hint="Rename the file to something shorter.",
            code="invalid_filename",
        )
    return unicodedata.normalize("NFC", name)


def check_recorded_at(value: datetime | None) -> datetime | None:
    """A recording time must say its time zone: 10:00 in Tokyo and 10:00 UTC can fall on different days."""
    if value is not None and value.tzinfo is None:
        raise InvalidUpload(
            "recorded_at has no time zone.",
            hint="Send it as ISO 8601 with an offset, e.g. 2026-11-25T10:00:00+09:00.",
            code="invalid_recorded_at",
        )
    return value


def check_language(language: str | None) -> str | None:
    """The upload's language as a lowercase ISO 639-1 code; None (detect it) when empty or ``auto``.

    Raises:
        InvalidUpload: The code is not a supported language.
    """
    if language is None or language.strip().lower() in {"", "auto"}:
        return None
    code = language.strip().lower()
    if code not in LANGUAGES:
        raise InvalidUpload(
            f"Unknown language {language!r}.",
            hint="Use an ISO 639-1 code such as 'ja' or 'en', or leave it empty to detect the language.",
            code="invalid_language",
        )
    return code


def check_speakers(value: int | None) -> int | None:
    """The upload's number of speakers, or None (estimate it) when not given.

    Raises:
        InvalidUpload: The number is not between 1 and 10.
    """
    if value is None:
        return None
    if not 1 <= value <= 10:
        raise InvalidUpload(
            f"speakers must be between 1 and 10, not {value}.",
            hint="Give the number of people in the recording, or leave it empty to estimate it.",
            code="invalid_speakers",
        )
    return value


def check_rep_channel(value: str | None, info: AudioInfo) -> int | None:
    """The stereo channel of the sales rep (0 left, 1 right), or None when not given.

    Raises:
        InvalidUpload: The value is not left/right (or l/r, 0/1).
        InvalidAudio: The recording is not two distinct channels.
    """
    if value is None or value.strip() == "":
        return None
    mapping = {"left": 0, "l": 0, "0": 0, "right": 1, "r": 1, "1": 1}
    channel = mapping.get(value.strip().lower())
    if channel is None:
        raise InvalidUpload(
            f"rep_channel must be 'left' or 'right', not {value!r}.",
            hint="Say which stereo channel carries the sales rep: 'left' or 'right'.",
            code="invalid_rep_channel",
        )
    if info.channels != 2 or info.dual_mono:
        raise InvalidAudio(
            "rep_channel was given but the recording is not a two-channel (one speaker per channel) file.",
            hint="Leave rep_channel empty for mono recordings; speakers are separated automatically.",
            code="not_stereo",
        )
    return channel


def _find_user(session: Session, rep: str) -> User | None:
    if rep.isascii() and rep.isdigit():
        # A user id; beyond the id column's range it cannot be one.
        return users_repo.get(session, int(rep)) if int(rep) < 2**31 else None
    return users_repo.get_by_email(session, rep)


def check_rep(session: Session, meta: UploadMeta) -> str | None:
    """The voice-profile key of the call's rep: the named user's e-mail (the owner's when none is named).

    The rep's voice profile decides who the rep is in their later calls, so an upload may name only a rep its
    owner may enrol a voice for (themself; a manager, a member of their team; an admin, anyone, also by a name that
    is no user). Uploads without an owner (local tools, calls from before accounts) keep the key as given.

    Raises:
        InvalidUpload: ``rep`` names no user.
        Forbidden: the owner may not name that rep.
    """
    given = (meta.rep or "").strip()
    if meta.owner_id is None:
        return given[:255] or None
    owner = users_repo.get(session, meta.owner_id)
    if owner is None:
        raise InvalidUpload(f"User {meta.owner_id} does not exist.", hint="Sign in again.", code="unknown_owner")
    if not given:
        return owner.email
    rep = _find_user(session, given)
    if policy.can_enrol_voice(owner.role, owner.id, owner.team_id, rep):
        return rep.email if rep is not None else given[:255]  # admins may also key a profile by a plain name
    if rep is None:
        raise InvalidUpload(
            f"No user {given!r} to name as the call's rep.",
            hint="Give the rep's e-mail or user id, or leave rep empty when you are the rep.",
            code="unknown_rep",
        )
    raise Forbidden(
        f"You may not name {rep.email} as the rep of your upload: their voice profile would learn from it.",
        hint="Leave rep empty when you are the rep; a call of another rep is uploaded by them, their manager or "
        "an admin.",
        code="rep_not_allowed",
        object_type="user",
        object_id=rep.id,
    )


def _resolve_links(session: Session, meta: UploadMeta) -> tuple[int | None, int | None]:
    """The customer and deal a call belongs to, from the external ids given at upload.

    An unknown customer id creates nothing: no stub customer that a later CRM or transaction import would duplicate
    under its own source; the call keeps the id and is linked when that import brings the customer
    (``customers_repo.link_calls``). An unknown deal id creates the deal, open and with the call's customer when
    known: the deal's outcome is what the call is later learnt against, and a deal import from any source takes
    that deal over (``insight.customers.deals.ensure_deal``). A deal with a customer also gives the call its customer.
    """
    customer_id = deal_id = None
    if meta.customer_external_id:
        customer_id = customers_repo.resolve_external_id(session, meta.customer_external_id)
    if meta.deal_external_id:
        deal = deals.ensure_deal(session, meta.deal_external_id, customer_id=customer_id)
        deal_id = deal.id
        customer_id = customer_id or deal.customer_id
    return customer_id, deal_id


def _create_call(
    runtime: Runtime,
    meta: UploadMeta,
    sha256: str,
    size: int,
    filename: str,
    info: AudioInfo,
    language: str | None,
    rep_channel: int | None,
    rep_key: str | None,
    num_speakers: int | None,
) -> tuple[Call, list[str]]:
    """The call row and its first job, in one transaction. Returns the call and the queues to wake."""
    with session_scope(runtime.engine) as session:
        customer_id, deal_id = _resolve_links(session, meta)
        call = calls_repo.add(
            session,
            Call(
                audio_sha256=sha256,
                audio_bytes=size,
                filename=filename,
                media_format=info.format_name[:64],
                codec=info.codec[:64],
                duration_s=round(info.duration_s, 3),
                sample_rate=info.sample_rate,
                channels=info.channels,
                dual_mono=info.dual_mono,
                customer_external_id=meta.customer_external_id or None,
                deal_external_id=meta.deal_external_id or None,
                customer_id=customer_id,
                deal_id=deal_id,
                language_hint=language,
                rep_channel=rep_channel,
                rep_key=rep_key,
                num_speakers=num_speakers,
                owner_id=meta.owner_id,
                recorded_at=meta.recorded_at,
            ),
        )
        assert call.id is not None
        wake = pipeline.submit_first(session, call.id, max_attempts=runtime.settings.job_max_attempts)
    return call, wake


def ingest(runtime: Runtime, stream: BinaryIO, meta: UploadMeta) -> IngestResult:
    """Store an uploaded recording and queue its transcription.

    The same bytes uploaded twice by one owner are one call (and one job); by another owner, another call that
    shares the stored file (no one learns what others uploaded). Nothing is left behind when the upload is
    rejected: the temporary file is removed, no row is written and no audio is stored.

    Raises:
        InvalidUpload, UploadTooLarge, UnsupportedMediaType, InvalidAudio: the upload is unusable (see message/hint).
        Forbidden: the upload names as its rep someone the owner may not enrol a voice for.
    """
    settings = runtime.settings
    filename = check_filename(meta.filename)
    language = check_language(meta.language)
    num_speakers = check_speakers(meta.speakers)
    check_recorded_at(meta.recorded_at)
    with Session(runtime.engine) as session:
        rep_key = check_rep(session, meta)
    with runtime.store.receive(stream, max_bytes=settings.max_upload_bytes) as (tmp, sha256, size):
        if size == 0:
            raise InvalidUpload(
                "The file is empty.", hint="Check the recording and upload it again.", code="empty_file"
            )
        with session_scope(runtime.engine) as session:
            existing = calls_repo.get_by_sha256(session, sha256, owner_id=meta.owner_id)
        if existing is not None:
            return IngestResult(existing, created=False)
        info = probe_audio(tmp, max_duration_s=settings.max_duration_s)
        rep_channel = check_rep_channel(meta.rep_channel, info)
        # The name keeps the uploader's stem but takes the probed container's extension (q3-forecast.htm becomes
        # q3-forecast.wav): nothing downstream may mistake a recording for a web page by its name.
        filename = with_extension(filename, media_kind(info.format_name, info.codec))
        _, stored_new = runtime.store.commit(tmp, sha256)
        wake: list[str] = []
        try:
            for attempt in range(1, DB_ATTEMPTS + 1):
                try:
                    call, wake = _create_call(
                        runtime, meta, sha256, size, filename, info, language, rep_channel, rep_key, num_speakers
                    )
                    break
                except OperationalError:
                    # A dropped database connection (failover, restart): the transaction rolled back; the
                    # content address makes a second try safe.
                    if attempt == DB_ATTEMPTS:
                        raise
                    log.warning("database connection lost while creating a call; retrying (%d)", attempt)
                    time.sleep(0.2 * attempt)
        except IntegrityError:
            # A concurrent upload of the same bytes by the same owner won the race: that call is this call.
            with session_scope(runtime.engine) as session:
                existing = calls_repo.get_by_sha256(session, sha256, owner_id=meta.owner_id)
            if existing is None:
                raise
            return IngestResult(existing, created=False)
        except BaseException:
            if stored_new:
                # Unless another owner's upload of the same bytes has meanwhile made a call of it.
                with Session(runtime.engine) as session:
                    shared = calls_repo.sha256_in_use(session, [sha256])
                if not shared:
                    runtime.store.delete(sha256)
            raise
    for queue in wake:
        runtime.queues.wake(queue)
    log.info("call %s created from %s (%.1f s, %d ch)", call.id, filename, info.duration_s, info.channels)
    return IngestResult(call, created=True)


def kept_on_duplicate(call: Call, meta: UploadMeta) -> dict[str, tuple[object, object]]:
    """What a repeated upload of a call's bytes said differently from that call, which keeps its own values.

    Returns:
        Field name → (the call's value, kept; the value this upload gave, not applied), for the fields the upload
        gave: customer and deal ids, language, recording time, number of speakers.
    """
    given: dict[str, tuple[object, object]] = {
        "customer_external_id": (call.customer_external_id, meta.customer_external_id or None),
        "deal_external_id": (call.deal_external_id, meta.deal_external_id or None),
        "language": (call.language_hint, meta.language or None),
        "recorded_at": (call.recorded_at, meta.recorded_at),
        "speakers": (call.num_speakers, meta.speakers),
    }
    return {name: (kept, new) for name, (kept, new) in given.items() if new is not None and new != kept}


@dataclass(frozen=True)
class CallChanges:
    """A correction of a call's details; ``None`` leaves a field alone, an empty id clears the link."""

    customer_external_id: str | None = None
    deal_external_id: str | None = None
    recorded_at: datetime | None = None


def update_call(engine: Engine, call_id: int, changes: CallChanges, *, on_stale: StaleHook) -> list[str]:
    """Change the customer, deal or recording time of an uploaded call, without processing it again.

    The customer and deal links are resolved again from the external ids, as at upload. A new recording time is
    reported to ``on_stale`` (``Change.recorded_at``): relative dates in the minutes resolve against it, and
    ``insight.pipeline.redo_hook`` writes a processed call's minutes again; nothing else is recomputed.

    Args:
        engine: the database.
        call_id: the call.
        changes: the new details.
        on_stale: told, in the update's transaction, that the recording time changed; returns the queues to wake.

    Returns:
        The queues to wake after the commit.

    Raises:
        NotFound: no such call.
        InvalidUpload: a recording time without a time zone.
    """
    check_recorded_at(changes.recorded_at)
    with session_scope(engine) as session:
        call = get_call(session, call_id, hint="List calls with `insight calls list`.")
        if changes.customer_external_id is not None:
            call.customer_external_id = changes.customer_external_id.strip() or None
        if changes.deal_external_id is not None:
            call.deal_external_id = changes.deal_external_id.strip() or None
        if changes.customer_external_id is not None or changes.deal_external_id is not None:
            links = UploadMeta(
                filename=call.filename,
                customer_external_id=call.customer_external_id,
                deal_external_id=call.deal_external_id,
            )
            call.customer_id, call.deal_id = _resolve_links(session, links)
        redo = changes.recorded_at is not None and changes.recorded_at != call.recorded_at
        if changes.recorded_at is not None:
            call.recorded_at = changes.recorded_at
        session.add(call)
        session.flush()
        return on_stale(session, call_id, Change.recorded_at) if redo else []


def duplicate_notice(call: Call, kept: dict[str, tuple[object, object]]) -> str:
    """What a repeated upload tells the uploader: which call it is, what it kept, and how to change that."""
    notice = f"You uploaded these bytes before: this is call {call.id}, unchanged."
    if not kept:
        return notice
    said = "; ".join(f"{name} {_shown(old)} (this upload: {_shown(new)})" for name, (old, new) in kept.items())
    notice += f" It keeps its {said}."
    if kept.keys() & {"customer_external_id", "deal_external_id", "recorded_at"}:
        notice += (
            f" To change its customer, deal or recording time: PATCH /api/calls/{call.id} with customer_external_id,"
            f" deal_external_id or recorded_at (`insight calls set {call.id} --customer ID --deal ID`)."
        )
    if kept.keys() & {"language", "speakers"}:
        notice += (
            " Its language and number of speakers were used to transcribe it and stay; correct its speakers and"
            f" roles with PATCH /api/calls/{call.id}/speakers."
        )
    return notice


def _shown(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes")
    return repr(value) if isinstance(value, str) else str(value)
