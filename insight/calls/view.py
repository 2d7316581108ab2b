"""What a reader gets of a call: the call itself (if they may see it), and its original or redacted view.

Every route and page that shows a call's text goes through here, so the transcript, the speakers list, the minutes
and the call page make one decision: originals (unredacted text, word timings, speaker names as given) for the
call's owner and admins (``insight.auth.policy``), the redacted text for everyone else who may see the call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlmodel import Session

from insight.auth import policy
from insight.auth.policy import Principal
from insight.errors import Forbidden, NotFound
from insight.nlp.minutes.redaction import redactor_from_settings, shown_speaker_name
from insight.repositories import calls as calls_repo
from insight.repositories import minutes as minutes_repo
from insight.repositories import speakers as speakers_repo
from insight.repositories import transcripts as transcripts_repo
from insight.repositories import users as users_repo
from insight.settings import Settings
from models import Call, Minutes, Speaker, Utterance

LIST_HINT = "List calls with GET /api/calls."


def get_call(session: Session, call_id: int, *, hint: str = "") -> Call:
    """The call with this id, whoever may see it (for callers that checked access already, or need none).

    Raises:
        NotFound: no such call.
    """
    return calls_repo.get_existing(session, call_id, hint=hint)


def get_visible_call(session: Session, principal: Principal, call_id: int, *, hint: str = LIST_HINT) -> Call:
    """The call with this id, if ``principal`` may see it.

    Raises:
        NotFound: no such call, or one ``principal`` may not see: the same answer, so ids reveal nothing.
    """
    call = calls_repo.get(session, call_id)
    if call is None or not policy.can_see_call(principal, call, users_repo.team_of(session, call.owner_id)):
        raise NotFound(f"Call {call_id} does not exist.", hint=hint, object_type="call", object_id=call_id)
    return call


def require_original(principal: Principal, call: Call) -> None:
    """Refuse the audio and unredacted text to all but the call's owner and admins.

    Raises:
        Forbidden: ``principal`` may not read the call's originals.
    """
    if not policy.can_read_original(principal, call):
        raise Forbidden(
            "Only the call's owner and admins may access the original recording and unredacted transcript.",
            hint="Read the redacted transcript instead.",
            code="original_forbidden",
            object_type="call",
            object_id=call.id,
        )


@dataclass(frozen=True)
class CallSpeakers:
    """A call's speakers by label (in label order) and the name each shows in this view."""

    rows: dict[str, Speaker]
    names: dict[str, str | None]

    def role_of(self, call: Call, utterance: Utterance) -> str | None:
        """The role of an utterance's speaker; without speakers, the rep channel of a stereo call decides."""
        if utterance.speaker in self.rows:
            return self.rows[utterance.speaker].role
        if utterance.channel is None or call.rep_channel is None:
            return None
        return "rep" if utterance.channel == call.rep_channel else "customer"


@dataclass(frozen=True)
class ShownMinutes:
    """A call's minutes row and the copy this view shows (None: no such copy; never the other one instead)."""

    row: Minutes
    content: dict[str, Any] | None


@dataclass(frozen=True)
class CallView:
    """The original or the redacted view of one call, as decided by :func:`decide_view`."""

    call: Call
    original: bool

    @property
    def call_id(self) -> int:
        """The call's id (the call is always a stored row here)."""
        assert self.call.id is not None
        return self.call.id

    @property
    def name(self) -> Literal["original", "redacted"]:
        """Which view this is: ``original`` or ``redacted``."""
        return "original" if self.original else "redacted"

    def utterances(self, session: Session) -> list[Utterance]:
        """The call's transcript utterances in order, as stored."""
        return transcripts_repo.for_call(session, self.call_id)

    def text(self, utterance: Utterance) -> str:
        """The utterance's text in this view (text not redacted yet is withheld from the redacted view)."""
        return policy.shown_text(utterance.text, utterance.text_redacted, original=self.original)

    def words(self, utterance: Utterance) -> list[dict[str, Any]]:
        """The utterance's word timings: the original view only (words are unredacted text)."""
        return list(utterance.words) if self.original else []

    def speakers(self, session: Session, settings: Settings) -> CallSpeakers:
        """The call's speakers, their names masked in the redacted view as the redacted minutes mask them."""
        rows = {s.label: s for s in speakers_repo.for_call(session, self.call_id)}
        redactor = None
        if not self.original:
            redactor = redactor_from_settings(settings, self.call.language or self.call.language_hint)
        names = {
            label: shown_speaker_name(s.name, original=self.original, redactor=redactor) for label, s in rows.items()
        }
        return CallSpeakers(rows=rows, names=names)

    def minutes(self, session: Session) -> ShownMinutes | None:
        """The call's minutes in this view (None: no minutes yet)."""
        row = minutes_repo.get(session, self.call_id)
        if row is None:
            return None
        return ShownMinutes(row=row, content=row.content if self.original else row.content_redacted)


def decide_view(principal: Principal, call: Call, asked: str = "auto") -> CallView:
    """The view of ``call`` that ``principal`` gets when asking for ``asked``.

    ``auto`` (or anything else) is the original for those who may read it, else the redacted view; ``redacted`` is
    always allowed; ``original`` only for the owner and admins.

    Raises:
        Forbidden: ``original`` asked for by someone who may not read originals.
    """
    may_original = policy.can_read_original(principal, call)
    if asked == "original" and not may_original:
        require_original(principal, call)
    return CallView(call=call, original=may_original and asked != "redacted")
