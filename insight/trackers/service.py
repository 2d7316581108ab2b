"""Trackers: their definitions (create, change, delete), and the hits of a call.

A tracker is a named list of phrases with a side (customer, rep or any). An utterance of that side matches when a
phrase occurs in its normalised text (NFKC, width-folded, case-folded; English phrases on word boundaries), or, for a
semantic tracker, when its embedding is close enough to a phrase's embedding (cosine at or above the model's
calibrated threshold, see :data:`CALIBRATIONS`). Each tracker counts an utterance once, with its best phrase.

The analyze stage computes a call's hits right after its embeddings; a change of the trackers (or of the embedding
model) changes the :func:`fingerprint`, and the ``trackers.recompute`` job recomputes every call whose hits carry
another one.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import unicodedata
import weakref
from collections.abc import Callable, Sequence

import numpy as np
from sqlalchemy import Engine
from sqlmodel import Session

from insight.errors import Conflict, InvalidTracker, NotFound
from insight.nlp.embeddings import DEFAULT_EMBEDDING_MODEL, MINILM_MODEL, Embedder, FloatMatrix, embedded_text
from insight.nlp.text import fold_width
from insight.repositories import calls as calls_repo
from insight.repositories import embeddings as embeddings_repo
from insight.repositories import speakers as speakers_repo
from insight.repositories import trackers as trackers_repo
from insight.repositories import transcripts as transcripts_repo
from insight.trackers.types import Calibration, HitSpec, SpokenText, TrackerInput, TrackerSpec
from models import Tracker, TrackerHit, TrackerMatch, TrackerSide
from models.base import utcnow

# Cosine thresholds measured on real sentences of ../shared/data/conversations: 76 Japanese-chat and English-dialogue
# utterances about prices and money, and 378 on other subjects, against the default "pricing" phrases. The exact
# phrases find 30 of the 76 (no false hit). Among the rest, lower thresholds mostly matched short back-channels
# ("ほうほう", "Great.": use-multilingual-v3 rates short pairs alike); at these thresholds the semantic matches were
# use-multilingual-v3 (0.45): 1 more (「なんせ、安い」), no false hit; all-MiniLM-L6-v2 (0.34, English only): 3 more
# ("you know you can afford it"), and one on a money remark outside the label set. Semantic matching adds little
# recall on short phrases; the thresholds favour precision.
CALIBRATIONS: dict[str, Calibration] = {
    DEFAULT_EMBEDDING_MODEL: Calibration(threshold=0.45, multilingual=True),
    MINILM_MODEL: Calibration(threshold=0.34, multilingual=False),
}
# A model nobody measured: a cautious threshold, and the configuring user's word that it reads both languages.
UNCALIBRATED = Calibration(threshold=0.5, multilingual=True)

MAX_PHRASES = 200
MAX_PHRASE_CHARS = 255
SIDES = tuple(s.value for s in TrackerSide)

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uff66-\uff9f]")
_WORDISH = re.compile(r"^[0-9a-z]|[0-9a-z]$")


def calibration(model: str) -> Calibration:
    """The semantic-match calibration of embedding model ``model``."""
    return CALIBRATIONS.get(model, UNCALIBRATED)


def normalize(text: str) -> str:
    """Text as matched: width-folded, NFKC, case-folded, runs of white space as one space."""
    folded = unicodedata.normalize("NFKC", fold_width(text)).casefold()
    return " ".join(folded.split())


def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    """The phrase's pattern: an English word or number does not match inside a longer one ("cost" in "costume")."""
    body = re.escape(phrase)
    head = r"(?<![0-9a-z])" if _WORDISH.search(phrase[:1]) else ""
    tail = r"(?![0-9a-z])" if _WORDISH.search(phrase[-1:]) else ""
    return re.compile(head + body + tail)


# -- matching (no database) --------------------------------------------------------------------------------------
class PhraseVectors:
    """Phrase embeddings of one embedder, computed once per phrase (phrases are few and change rarely)."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._cache: dict[str, FloatMatrix] = {}
        self._lock = threading.Lock()

    def __call__(self, phrases: Sequence[str]) -> FloatMatrix:
        """One row per phrase, in order."""
        with self._lock:
            missing = [p for p in dict.fromkeys(phrases) if p not in self._cache]
        if missing:
            rows = self.embedder.encode(missing)
            with self._lock:
                for phrase, row in zip(missing, rows, strict=True):
                    self._cache[phrase] = row
        with self._lock:
            if not phrases:
                return np.zeros((0, 0), dtype=np.float32)
            return np.stack([self._cache[p] for p in phrases]).astype(np.float32)


_PHRASE_VECTORS: weakref.WeakKeyDictionary[Embedder, PhraseVectors] = weakref.WeakKeyDictionary()
_PHRASE_VECTORS_LOCK = threading.Lock()


def phrase_vectors(embedder: Embedder) -> PhraseVectors:
    """The phrase embeddings of ``embedder``, shared in the process while the embedder lives."""
    with _PHRASE_VECTORS_LOCK:
        try:
            cached = _PHRASE_VECTORS.get(embedder)
            if cached is None:
                cached = _PHRASE_VECTORS[embedder] = PhraseVectors(embedder)
        except TypeError:  # an embedder that cannot be weakly referenced (or hashed): its own cache
            cached = PhraseVectors(embedder)
        return cached


def find_hits(
    trackers: Sequence[TrackerSpec],
    utterances: Sequence[SpokenText],
    vectors: FloatMatrix | None = None,
    *,
    phrase_vectors: Callable[[Sequence[str]], FloatMatrix] | None = None,
    model: str | None = None,
) -> list[HitSpec]:
    """The hits of ``trackers`` in ``utterances``: at most one per tracker and utterance, exact before semantic.

    Args:
        trackers: The enabled trackers.
        utterances: The call's utterances with their speakers' roles.
        vectors: Row ``i`` is the (unit) embedding of ``utterances[i]``; zero rows have none. None: exact only.
        phrase_vectors: Embeds phrases with the same model as ``vectors``.
        model: The name of that model (picks the calibrated threshold).
    """
    texts = [normalize(u.text) for u in utterances]
    cal = calibration(model) if model is not None else UNCALIBRATED
    hits: list[HitSpec] = []
    for tracker in trackers:
        phrases = [(p, normalize(p)) for p in tracker.phrases if normalize(p)]
        patterns = [(p, _phrase_pattern(n), len(n)) for p, n in phrases]
        eligible = [i for i, u in enumerate(utterances) if tracker.side == TrackerSide.any or u.role == tracker.side]
        unmatched: list[int] = []
        for i in eligible:
            found = [(length, p) for p, pattern, length in patterns if pattern.search(texts[i])]
            if found:
                _, phrase = max(found)
                u = utterances[i]
                hits.append(HitSpec(tracker.id, u.id, phrase, TrackerMatch.exact, 1.0, u.role))
            else:
                unmatched.append(i)
        if not (tracker.semantic and vectors is not None and phrase_vectors is not None and unmatched):
            continue
        usable = [p for p, _ in phrases if cal.multilingual or not _CJK.search(p)]
        rows = [i for i in unmatched if cal.multilingual or not _CJK.search(texts[i])]
        if not usable or not rows:
            continue
        threshold = tracker.threshold if tracker.threshold is not None else cal.threshold
        scores = vectors[rows] @ phrase_vectors(usable).T
        best = scores.argmax(axis=1)
        for k, i in enumerate(rows):
            score = float(scores[k, best[k]])
            if score >= threshold and np.any(vectors[i]):
                u = utterances[i]
                hits.append(HitSpec(tracker.id, u.id, usable[best[k]], TrackerMatch.semantic, round(score, 4), u.role))
    hits.sort(key=lambda h: (h.tracker_id, h.utterance_id))
    return hits


def fingerprint(trackers: Sequence[TrackerSpec], model: str) -> str:
    """What a call's hits depend on, hashed: the enabled trackers' definitions and the embedding model."""
    payload = {
        "model": model,
        "trackers": [[t.id, t.name, t.side, list(t.phrases), t.semantic, t.threshold] for t in trackers],
    }
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


# -- a call's hits -----------------------------------------------------------------------------------------------
def active_trackers(session: Session) -> list[TrackerSpec]:
    """The enabled trackers, as the matcher takes them."""
    return [_spec(t) for t in trackers_repo.list_all(session, enabled_only=True)]


def save_hits(session: Session, call_id: int, hits: Sequence[HitSpec], fingerprint: str) -> None:
    """Replace the call's hits with ``hits`` (in the caller's transaction) and record ``fingerprint``."""
    rows = [
        TrackerHit(
            tracker_id=h.tracker_id,
            call_id=call_id,
            utterance_id=h.utterance_id,
            phrase=h.phrase[:MAX_PHRASE_CHARS],
            kind=h.kind,
            score=h.score,
            side=h.side,
        )
        for h in hits
    ]
    trackers_repo.replace_hits(session, call_id, rows, fingerprint)


def recompute_call(engine: Engine, call_id: int, embedder: Embedder, phrase_vectors: PhraseVectors) -> int:
    """Recompute one call's hits with the current trackers and commit. Returns the number of hits.

    Utterances without a stored vector of ``embedder``'s model (the call is not re-embedded yet) are embedded for
    the match and not stored: storing is the re-embedding job's work.
    """
    with Session(engine) as session:
        specs = active_trackers(session)
        rows = transcripts_repo.for_call(session, call_id)
        roles = {s.label: s.role for s in speakers_repo.for_call(session, call_id)}
        stored = embeddings_repo.for_call(session, call_id, embedder.name)
    utterances = [SpokenText(id=r.id, text=r.text, role=roles.get(r.speaker, "other")) for r in rows if r.id]
    by_id = {int(uid): stored.matrix[k] for k, uid in enumerate(stored.utterance_ids)}
    vectors: FloatMatrix | None = None
    if utterances:
        missing = [k for k, u in enumerate(utterances) if u.id not in by_id]
        fresh = (
            embedder.encode([embedded_text(rows[k].text, rows[k].text_redacted) for k in missing]) if missing else None
        )
        dim = next(iter(by_id.values())).shape[0] if by_id else (fresh.shape[1] if fresh is not None else 0)
        vectors = np.zeros((len(utterances), dim), dtype=np.float32)
        for k, u in enumerate(utterances):
            if u.id in by_id:
                vectors[k] = by_id[u.id]
        if fresh is not None:
            vectors[missing] = fresh
    hits = find_hits(specs, utterances, vectors, phrase_vectors=phrase_vectors, model=embedder.name)
    with Session(engine) as session, session.begin():
        if calls_repo.get(session, call_id) is None:  # deleted (retention, erasure) meanwhile
            return 0
        save_hits(session, call_id, hits, fingerprint(specs, embedder.name))
    return len(hits)


def recompute_stale(
    engine: Engine,
    embedder: Embedder,
    *,
    limit: int = 100,
    check: Callable[[], None] | None = None,
    cache: PhraseVectors | None = None,
) -> int:
    """Recompute the hits of up to ``limit`` calls computed with other trackers or another model, one commit per
    call. Returns how many calls were recomputed.

    Args:
        engine: The database.
        embedder: The configured sentence encoder.
        limit: The most calls in this run (the next run takes the rest).
        check: Called between calls; raises to stop (a job that lost its lease).
        cache: Phrase embeddings to use (default: the process's cache of ``embedder``).
    """
    vectors = cache if cache is not None else phrase_vectors(embedder)
    with Session(engine) as session:
        current = fingerprint(active_trackers(session), embedder.name)
        calls = trackers_repo.stale_calls(session, current, limit=limit)
    for call_id in calls:
        if check is not None:
            check()
        recompute_call(engine, call_id, embedder, vectors)
    return len(calls)


# -- definitions -------------------------------------------------------------------------------------------------
def list_trackers(session: Session) -> list[Tracker]:
    """Every tracker, enabled or not, by id."""
    return trackers_repo.list_all(session)


def get_tracker(session: Session, tracker_id: int) -> Tracker:
    """The tracker ``tracker_id``.

    Raises:
        NotFound: there is none.
    """
    tracker = trackers_repo.get(session, tracker_id)
    if tracker is None:
        raise NotFound(f"no tracker {tracker_id}", object_type="tracker", object_id=tracker_id)
    return tracker


def create_tracker(session: Session, data: TrackerInput) -> Tracker:
    """Add a tracker (in the caller's transaction).

    Raises:
        InvalidTracker: a missing or empty name or phrase list, an unknown side, a threshold outside (0, 1].
        Conflict: a tracker of that name exists.
    """
    if data.name is None or data.phrases is None:
        raise InvalidTracker("a tracker needs a name and phrases", hint='e.g. {"name": "pricing", "phrases": ["価格"]}')
    tracker = Tracker(name=_name(data.name), phrases=_phrases(data.phrases))
    _apply(tracker, data)
    _check_unique(session, tracker)
    return trackers_repo.save(session, tracker)


def update_tracker(session: Session, tracker_id: int, data: TrackerInput) -> Tracker:
    """Change a tracker's fields given in ``data`` (in the caller's transaction).

    Raises:
        NotFound: there is no such tracker.
        InvalidTracker: a field's new value is unusable.
        Conflict: another tracker has the new name.
    """
    tracker = get_tracker(session, tracker_id)
    if data.name is not None:
        tracker.name = _name(data.name)
    if data.phrases is not None:
        tracker.phrases = _phrases(data.phrases)
    _apply(tracker, data)
    _check_unique(session, tracker)
    return trackers_repo.save(session, tracker)


def delete_tracker(session: Session, tracker_id: int) -> None:
    """Delete a tracker and its hits (in the caller's transaction).

    Raises:
        NotFound: there is no such tracker.
    """
    trackers_repo.delete_tracker(session, get_tracker(session, tracker_id))


def call_hits(session: Session, call_id: int) -> tuple[list[Tracker], list[TrackerHit], bool]:
    """Every tracker, the call's hits, and whether they were computed yet (the caller checked that the call may be
    seen).
    """
    computed = trackers_repo.state(session, call_id) is not None
    return trackers_repo.list_all(session), trackers_repo.hits_for_call(session, call_id), computed


def _spec(tracker: Tracker) -> TrackerSpec:
    assert tracker.id is not None
    return TrackerSpec(
        id=tracker.id,
        name=tracker.name,
        side=tracker.side,
        phrases=tuple(tracker.phrases),
        semantic=tracker.semantic,
        threshold=tracker.threshold,
    )


def _name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 255:
        raise InvalidTracker("a tracker's name must be 1 to 255 characters", hint="name it, e.g. 'pricing'")
    return name


def _phrases(phrases: Sequence[str]) -> list[str]:
    out: dict[str, str] = {}
    for phrase in phrases:
        clean = " ".join(phrase.split())
        if not clean or len(clean) > MAX_PHRASE_CHARS:
            raise InvalidTracker(
                f"phrases must be 1 to {MAX_PHRASE_CHARS} characters", hint="remove empty or overlong phrases"
            )
        out.setdefault(normalize(clean), clean)
    if not out or len(out) > MAX_PHRASES:
        raise InvalidTracker(f"a tracker needs 1 to {MAX_PHRASES} distinct phrases", hint='e.g. ["価格", "price"]')
    return list(out.values())


def _apply(tracker: Tracker, data: TrackerInput) -> None:
    if data.side is not None:
        if data.side not in SIDES:
            raise InvalidTracker(f"unknown side {data.side!r}", hint=f"one of {', '.join(SIDES)}")
        tracker.side = data.side
    if data.semantic is not None:
        tracker.semantic = data.semantic
    if data.enabled is not None:
        tracker.enabled = data.enabled
    if data.clear_threshold:
        tracker.threshold = None
    elif data.threshold is not None:
        if not 0.0 < data.threshold <= 1.0:
            raise InvalidTracker("a threshold is a cosine in (0, 1]", hint="leave it unset for the model's default")
        tracker.threshold = data.threshold
    tracker.updated_at = utcnow()


def _check_unique(session: Session, tracker: Tracker) -> None:
    other = trackers_repo.get_by_name(session, tracker.name)
    if other is not None and other.id != tracker.id:
        raise Conflict(f"a tracker named {tracker.name!r} exists", hint="pick another name, or change that tracker")
