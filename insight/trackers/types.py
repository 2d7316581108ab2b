"""Plain types of the trackers domain: a tracker as the matcher sees it, an utterance to match, a hit."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrackerSpec:
    """An enabled tracker, as the matcher uses it.

    Attributes:
        id: The tracker's id.
        name: Its name.
        side: ``customer``, ``rep`` or ``any``: whose utterances count.
        phrases: The phrases, as the user wrote them.
        semantic: Whether similar utterances count, not only exact matches.
        threshold: The cosine threshold of a semantic match (None: the embedding model's calibrated one).
    """

    id: int
    name: str
    side: str
    phrases: tuple[str, ...]
    semantic: bool = True
    threshold: float | None = None


@dataclass(frozen=True)
class SpokenText:
    """An utterance to match: its id, text (the original: only the matched phrase is stored) and speaker role."""

    id: int
    text: str
    role: str


@dataclass(frozen=True)
class HitSpec:
    """A tracker heard in an utterance: the best phrase, how it matched and its score (1.0 for exact)."""

    tracker_id: int
    utterance_id: int
    phrase: str
    kind: str
    score: float
    side: str


@dataclass(frozen=True)
class TrackerInput:
    """A tracker as a user creates or changes it (None: unchanged, on a change)."""

    name: str | None = None
    side: str | None = None
    phrases: tuple[str, ...] | None = None
    semantic: bool | None = None
    threshold: float | None = None
    enabled: bool | None = None
    clear_threshold: bool = False


@dataclass(frozen=True)
class Calibration:
    """How semantic matches behave for one embedding model.

    Attributes:
        threshold: The cosine above which an utterance matches a phrase.
        multilingual: False for English-only models: their vectors of Japanese text carry no meaning, so Japanese
            utterances and phrases are left to exact matching.
    """

    threshold: float
    multilingual: bool = True
