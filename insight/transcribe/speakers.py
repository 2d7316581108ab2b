"""Speakers and roles of a transcribed call, and the conversation metrics derived from them.

Stereo telephony: one speaker per channel (``S1`` = left, ``S2`` = right); overlapping speech on the two channels
stays as it is. Mono (or dual-mono stereo): ``insight.transcribe.diarize`` finds the speakers, every Whisper word
takes the speaker of the turn at its midpoint, and utterances are split where the speaker changes.

Roles (``rep``, ``customer``, ``other``), strongest evidence first:

1. a user's correction (``PATCH /api/calls/{id}/speakers``), never overwritten;
2. the upload's channel mapping (stereo: which channel is the rep);
3. the rep's enrolled voice: the call names its rep (``rep_key``) and that rep has a voice profile, built from calls
   whose roles a user confirmed; the speaker whose voice print is closest to it (cosine >= ``VOICE_MATCH`` and ahead
   of the next speaker by ``VOICE_MARGIN``) is the rep. Only calls whose owner may enrol a voice for that rep (the
   rep, a manager of the rep's team, an admin: ``policy.can_enrol_voice``) feed a profile, so no one can plant
   their own voice in another rep's profile;
4. a heuristic: the rep is the speaker with the highest score = 0.5 if they speak first + their share of all
   questions asked + their share of sales phrases (ご提案, 弊社の, お見積り, "our product", "demo", ...). With three or
   more speakers, one with under 3% of the talk time is ``other``; everyone else is a ``customer``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import Engine
from sqlmodel import Session

from insight.auth import policy
from insight.db import session_scope
from insight.errors import Forbidden, InvalidUpload, NotFound
from insight.model_holder import Models
from insight.repositories import calls as calls_repo
from insight.repositories import speakers as speakers_repo
from insight.repositories import transcripts as transcripts_repo
from insight.repositories import users as users_repo
from insight.stages import Change, StaleHook
from insight.storage import AudioStore
from insight.transcribe import talk_metrics as metrics_mod
from insight.transcribe.audio import SAMPLE_RATE, iter_windows
from insight.transcribe.diarize import SpeakerLookup, VoiceEncoder, diarize_stream, embed_speech
from models import Role, RoleSource, Speaker, User, Utterance, VoiceProfile

log = logging.getLogger(__name__)

VOICE_MATCH = 0.75
VOICE_MARGIN = 0.03
OTHER_SHARE = 0.03
MAX_WORD_GAP_S = 1.2
# At most this many 1.6 s windows per stereo channel go into its voice print (enough for a stable mean).
_PRINT_WINDOWS = 40

_SALES_PHRASES = re.compile(
    r"ご提案|ご案内|弊社の|お見積|見積もり|導入事例|デモ|料金プラン|プラン|ご検討|お時間をいただき|お世話になっております|"
    r"our (product|platform|solution|team)|demo|pricing|proposal|quote|we offer|free trial|onboarding|"
    r"thanks for (taking|your time)|follow up|i'll send",
    re.IGNORECASE,
)


@dataclass
class SpeakerDraft:
    """A speaker being built (before it becomes a row)."""

    label: str
    channel: int | None = None
    embedding: np.ndarray | None = None
    role: str = Role.other
    role_source: str = RoleSource.heuristic
    name: str | None = None
    talk_s: float = 0.0
    first_start: float = float("inf")
    questions: int = 0
    pitches: int = 0
    spans: list[tuple[float, float]] = field(default_factory=list)


@dataclass(frozen=True)
class UtteranceDraft:
    """One utterance being built from the transcript and speaker turns, before it becomes a row."""

    start: float
    end: float
    channel: int | None
    speaker: str
    language: str | None
    text: str
    words: list[dict[str, Any]]
    avg_logprob: float | None
    no_speech_prob: float | None


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-9))


def split_by_speaker(
    rows: Sequence[Utterance], lookup: Callable[[float], int | None], *, max_gap_s: float = MAX_WORD_GAP_S
) -> list[UtteranceDraft]:
    """Give every word the speaker at its midpoint; cut utterances where the speaker changes or the speech pauses.

    Batched Whisper returns segments of up to 30 s that can span another speaker's turn (a stereo channel is silent
    while the other side talks), so a pause of more than ``max_gap_s`` between two words also ends an utterance.
    """
    out: list[UtteranceDraft] = []
    for row in rows:
        words = list(row.words)
        if not words:
            who = lookup((row.start + row.end) / 2)
            label = f"S{(who or 0) + 1}"
            out.append(
                UtteranceDraft(
                    row.start,
                    row.end,
                    row.channel,
                    label,
                    row.language,
                    row.text,
                    [],
                    row.avg_logprob,
                    row.no_speech_prob,
                )
            )
            continue
        groups: list[tuple[int, list[dict[str, Any]]]] = []
        for w in words:
            who = lookup((float(w["start"]) + float(w["end"])) / 2) or 0
            if groups and groups[-1][0] == who and float(w["start"]) - float(groups[-1][1][-1]["end"]) <= max_gap_s:
                groups[-1][1].append(w)
            else:
                groups.append((who, [w]))
        for who, ws in groups:
            text = "".join(str(w["text"]) for w in ws).strip()
            if not text:
                continue
            out.append(
                UtteranceDraft(
                    start=float(ws[0]["start"]),
                    end=float(ws[-1]["end"]),
                    channel=row.channel,
                    speaker=f"S{who + 1}",
                    language=row.language,
                    text=text,
                    words=ws,
                    avg_logprob=row.avg_logprob,
                    no_speech_prob=row.no_speech_prob,
                )
            )
    return out


def _constant(speaker: int) -> Callable[[float], int | None]:
    return lambda _t: speaker


def _stereo_drafts(rows: Sequence[Utterance]) -> list[UtteranceDraft]:
    """One speaker per channel; long segments are cut at pauses like mono ones."""
    out: list[UtteranceDraft] = []
    for channel in sorted({r.channel or 0 for r in rows}):
        out.extend(split_by_speaker([r for r in rows if (r.channel or 0) == channel], _constant(channel)))
    return out


def _channel_prints(path: Any, window_s: float, encoder: VoiceEncoder) -> dict[int, np.ndarray]:
    """A voice print per stereo channel from up to ``_PRINT_WINDOWS`` windows of its speech."""
    collected: dict[int, list[np.ndarray]] = {0: [], 1: []}
    for window in iter_windows(path, split_channels=True, window_s=window_s):
        for ch in (0, 1):
            if len(collected[ch]) >= _PRINT_WINDOWS:
                continue
            audio = np.ascontiguousarray(window.samples[ch])
            _, _, embeddings = embed_speech(audio, encoder, hop_s=1.6, limit=_PRINT_WINDOWS - len(collected[ch]))
            collected[ch].extend(embeddings)
        if all(len(v) >= _PRINT_WINDOWS for v in collected.values()):
            break
    prints: dict[int, np.ndarray] = {}
    for ch, embs in collected.items():
        if embs:
            mean = np.mean(np.stack(embs), axis=0)
            prints[ch] = mean / max(float(np.linalg.norm(mean)), 1e-9)
    return prints


def collect_speakers(drafts: Sequence[UtteranceDraft]) -> dict[str, SpeakerDraft]:
    """One speaker per label in ``drafts``: talk time (seconds, overlaps counted once), questions, pitch phrases."""
    speakers: dict[str, SpeakerDraft] = {}
    for u in drafts:
        s = speakers.setdefault(u.speaker, SpeakerDraft(label=u.speaker, channel=u.channel))
        s.spans.append((u.start, u.end))
        s.first_start = min(s.first_start, u.start)
        s.questions += metrics_mod.count_questions(u.text)
        s.pitches += len(_SALES_PHRASES.findall(u.text))
    for s in speakers.values():
        s.talk_s = metrics_mod.union_length(s.spans)
    return speakers


def assign_roles(speakers: dict[str, SpeakerDraft], *, rep_channel: int | None, profile: np.ndarray | None) -> None:
    """Set each speaker's role and where it came from (see the module docstring)."""
    if not speakers:
        return
    if rep_channel is not None and any(s.channel is not None for s in speakers.values()):
        for s in speakers.values():
            s.role = Role.rep if s.channel == rep_channel else Role.customer
            s.role_source = RoleSource.channel
        return
    total_talk = sum(s.talk_s for s in speakers.values()) or 1.0
    for s in speakers.values():
        s.role, s.role_source = Role.customer, RoleSource.heuristic
    if len(speakers) >= 3:
        for s in speakers.values():
            if s.talk_s / total_talk < OTHER_SHARE:
                s.role = Role.other
    if profile is not None:
        scored = sorted(
            ((_cosine(s.embedding, profile), s) for s in speakers.values() if s.embedding is not None),
            key=lambda x: x[0],
            reverse=True,
        )
        if scored and scored[0][0] >= VOICE_MATCH and (len(scored) == 1 or scored[0][0] - scored[1][0] >= VOICE_MARGIN):
            scored[0][1].role, scored[0][1].role_source = Role.rep, RoleSource.voice
            for _, s in scored[1:]:
                s.role_source = RoleSource.voice
            return
    candidates = [s for s in speakers.values() if s.role != Role.other]
    first = min(candidates, key=lambda s: s.first_start)
    questions = sum(s.questions for s in candidates) or 1
    pitches = sum(s.pitches for s in candidates) or 1

    def score(s: SpeakerDraft) -> float:
        return (0.5 if s is first else 0.0) + s.questions / questions + s.pitches / pitches

    rep = max(candidates, key=score)
    rep.role = Role.rep


def speaker_rows(call_id: int, speakers: dict[str, SpeakerDraft]) -> list[Speaker]:
    """The speakers as rows of call ``call_id``, in label order (S0, S1 ...), talk time rounded to 0.01 s."""
    return [
        Speaker(
            call_id=call_id,
            label=s.label,
            name=s.name,
            role=s.role,
            role_source=s.role_source,
            channel=s.channel,
            talk_s=round(s.talk_s, 2),
            embedding=[round(float(x), 5) for x in s.embedding] if s.embedding is not None else None,
        )
        for s in sorted(speakers.values(), key=lambda s: int(s.label[1:]))
    ]


def utterance_rows(call_id: int, drafts: Sequence[UtteranceDraft]) -> list[Utterance]:
    """The drafts as utterance rows of call ``call_id``, numbered in time order (by channel on ties)."""
    ordered = sorted(drafts, key=lambda u: (u.start, u.channel if u.channel is not None else -1))
    return [
        Utterance(
            call_id=call_id,
            idx=i,
            start=round(u.start, 3),
            end=round(u.end, 3),
            channel=u.channel,
            speaker=u.speaker,
            language=u.language,
            text=u.text,
            words=u.words,
            avg_logprob=u.avg_logprob,
            no_speech_prob=u.no_speech_prob,
        )
        for i, u in enumerate(ordered)
    ]


def recompute_metrics(session: Session, call_id: int) -> dict[str, Any]:
    """Recompute and store a call's metrics from its stored utterances and speakers' current roles."""
    call = calls_repo.get_existing(session, call_id)
    roles = {s.label: s.role for s in speakers_repo.for_call(session, call_id)}
    spoken = [
        metrics_mod.Spoken(u.speaker, roles.get(u.speaker, Role.other), u.start, u.end, u.text)
        for u in transcripts_repo.for_call(session, call_id)
    ]
    result = metrics_mod.compute(spoken, call.duration_s)
    speakers_repo.save_metrics(session, call_id, result)
    return result


def diarize_call(
    *,
    engine: Engine,
    store: AudioStore,
    call_id: int,
    models: Models,
    window_s: float = 600.0,
    on_progress: Callable[[float], None] | None = None,
) -> Callable[[Session], None]:
    """Find the speakers of a transcribed call and their roles; returns the writer for the caller's transaction.

    ``models`` gives the voice encoder, loaded only when the call needs it (mono, or a rep with a voice profile).

    Raises:
        NotFound: the call or its audio is gone.
    """
    with Session(engine) as session:
        call = calls_repo.get_existing(session, call_id, hint=calls_repo.GONE_HINT)
        rows = transcripts_repo.for_call(session, call_id)
        for r in rows:
            session.expunge(r)
        profile_row = speakers_repo.get_profile(session, call.rep_key) if call.rep_key else None
        profile = np.asarray(profile_row.embedding, dtype=np.float32) if profile_row is not None else None
        path = store.path_for(call.audio_sha256)
        stereo = call.channels == 2 and not call.dual_mono and any(r.channel is not None for r in rows)
        rep_channel, rep_key, num_speakers, duration = (
            call.rep_channel,
            call.rep_key,
            call.num_speakers,
            call.duration_s,
        )
    if not path.is_file():
        raise NotFound(
            f"the audio of call {call_id} is missing from the store",
            hint="Upload the file again.",
            object_type="call",
            object_id=call_id,
        )

    if stereo:
        drafts = _stereo_drafts(rows)
        speakers = collect_speakers(drafts)
        if rep_key:
            prints = _channel_prints(path, window_s, models.voice_encoder())
            for s in speakers.values():
                if s.channel is not None and s.channel in prints:
                    s.embedding = prints[s.channel]
    else:
        total = max(duration, 1e-6)

        def chunks() -> Any:
            for window in iter_windows(path, split_channels=False, window_s=window_s):
                yield window.offset_s, np.ascontiguousarray(window.samples[0])
                if on_progress is not None:
                    on_progress(min(1.0, (window.offset_s + window.samples.shape[1] / SAMPLE_RATE) / total))

        result = diarize_stream(chunks(), num_speakers=num_speakers, encoder=models.voice_encoder())
        lookup: Callable[[float], int | None] = SpeakerLookup(result.turns) if result.turns else (lambda _t: 0)
        drafts = split_by_speaker(rows, lookup)
        speakers = collect_speakers(drafts)
        for s in speakers.values():
            idx = int(s.label[1:]) - 1
            if 0 <= idx < len(result.centroids):
                s.embedding = result.centroids[idx]
    assign_roles(speakers, rep_channel=rep_channel if stereo else None, profile=profile)
    new_rows = utterance_rows(call_id, drafts)
    new_speakers = speaker_rows(call_id, speakers)
    log.info("call %d: %d speakers, roles %s", call_id, len(new_speakers), {s.label: str(s.role) for s in new_speakers})

    def apply(session: Session) -> None:
        transcripts_repo.replace_for_call(session, call_id, new_rows)
        speakers_repo.replace_for_call(session, call_id, new_speakers)
        recompute_metrics(session, call_id)

    return apply


@dataclass(frozen=True)
class SpeakerChange:
    """A user's correction of one speaker: a display name and/or a role."""

    label: str
    name: str | None = None
    role: str | None = None


def update_speakers(
    engine: Engine,
    call_id: int,
    changes: Sequence[SpeakerChange],
    *,
    on_stale: StaleHook,
    actor: policy.Principal | None = None,
) -> list[str]:
    """Apply users' corrections, enrol the confirmed rep's voice, and recompute the call's metrics now; what else
    depends on the speakers (the minutes: owners, customer questions and sentiment) is left to ``on_stale``.

    Args:
        engine: the database.
        call_id: the call.
        changes: the corrections.
        on_stale: told, in the correction's transaction, that the call's speakers changed (``Change.speakers``);
            returns the queues to wake (e.g. ``insight.pipeline.redo_hook``, which writes a done call's minutes
            again).
        actor: who corrects (None: a trusted local caller). Role corrections of a call that feeds its rep's voice
            profile need the right to enrol a voice for that rep (``policy.can_enrol_voice``).

    Returns:
        The queues to wake after the commit.

    Raises:
        NotFound: no such call.
        InvalidUpload: an unknown speaker label or role.
        Forbidden: ``actor`` changes roles that would enrol a voice for a rep they may not enrol.
    """
    with session_scope(engine) as session:
        call = calls_repo.get_existing(session, call_id)
        if actor is not None and call.rep_key and any(c.role is not None for c in changes):
            rep = users_repo.get_by_email(session, call.rep_key)
            if feeds_profile(session, call.owner_id, rep) and not policy.can_enrol_voice(
                actor.role, actor.user_id, actor.team_id, rep
            ):
                raise Forbidden(
                    f"Confirming roles in call {call_id} would enrol a voice for {call.rep_key}, which you may not do.",
                    hint="Ask that rep, their manager or an admin to correct the roles.",
                    code="voice_enrolment_forbidden",
                    object_type="call",
                    object_id=call_id,
                )
        by_label = {s.label: s for s in speakers_repo.for_call(session, call_id)}
        if not by_label:
            raise InvalidUpload(
                f"Call {call_id} has no speakers yet.",
                hint="Wait until the call is processed (GET /api/calls/{id}), then correct its speakers.",
                code="no_speakers",
            )
        for change in changes:
            speaker = by_label.get(change.label)
            if speaker is None:
                raise InvalidUpload(
                    f"Call {call_id} has no speaker {change.label!r}.",
                    hint=f"Use one of: {', '.join(sorted(by_label))}.",
                    code="unknown_speaker",
                )
            if change.role is not None and change.role not in {r.value for r in Role}:
                raise InvalidUpload(
                    f"Unknown role {change.role!r}.", hint="Use rep, customer or other.", code="invalid_role"
                )
            if change.name is not None:
                speaker.name = change.name.strip() or None
            if change.role is not None:
                speaker.role, speaker.role_source = change.role, RoleSource.user
            session.add(speaker)
        session.flush()
        if call.rep_key and any(c.role is not None for c in changes):
            rebuild_profile(session, call.rep_key)
        recompute_metrics(session, call_id)
        return on_stale(session, call_id, Change.speakers)


def feeds_profile(session: Session, owner_id: int | None, rep: User | None) -> bool:
    """Does a call owned by ``owner_id`` count for ``rep``'s voice profile? Calls without an owner (from before
    accounts, or local tools; only admins see them) do; otherwise the owner must be allowed to enrol for the rep.
    """
    if owner_id is None:
        return True
    owner = users_repo.get(session, owner_id)
    return owner is not None and policy.can_enrol_voice(owner.role, owner.id, owner.team_id, rep)


def rebuild_profile(session: Session, rep_key: str) -> VoiceProfile | None:
    """Recompute a rep's voice profile: the mean voice print of the rep speaker in every call of theirs whose roles a
    user confirmed. Rebuilt from the calls (not updated in place), so a corrected correction leaves no trace.

    A call counts only when its owner may enrol a voice for the rep (:func:`feeds_profile`): a call that names
    someone else as its rep cannot plant its speaker's voice in their profile.
    """
    prints: list[np.ndarray] = []
    call_ids: list[int] = []
    rep = users_repo.get_by_email(session, rep_key)
    feeds: dict[int | None, bool] = {}
    for speaker, owner_id in speakers_repo.confirmed_reps(session, rep_key):
        if owner_id not in feeds:
            feeds[owner_id] = feeds_profile(session, owner_id, rep)
        if speaker.embedding and feeds[owner_id]:
            vec = np.asarray(speaker.embedding, dtype=np.float32)
            prints.append(vec / max(float(np.linalg.norm(vec)), 1e-9))
            call_ids.append(speaker.call_id)
    profile = speakers_repo.get_profile(session, rep_key)
    if not prints:
        if profile is not None:
            session.delete(profile)
            session.flush()
        return None
    mean = np.mean(np.stack(prints), axis=0)
    mean /= max(float(np.linalg.norm(mean)), 1e-9)
    if profile is None:
        profile = VoiceProfile(rep_key=rep_key, embedding=[], n_calls=0, call_ids=[])
    profile.embedding = [round(float(x), 5) for x in mean]
    profile.n_calls = len(prints)
    profile.call_ids = sorted(call_ids)
    speakers_repo.save_profile(session, profile)
    return profile
