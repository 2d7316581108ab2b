"""Diarization error rate (standard definition, no collar, overlaps scored) for evaluation and benchmarks."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np

Labelled = Sequence[tuple[float, float, Hashable]]  # (start s, end s, speaker)


@dataclass(frozen=True, slots=True)
class DerResult:
    """Seconds of reference speech and of each error kind; rates are shares of reference speech."""

    speech_s: float
    missed_s: float
    false_alarm_s: float
    confusion_s: float
    mapping: dict[Hashable, Hashable]

    @property
    def der(self) -> float:
        """Diarization error rate: missed, false-alarm and confused speech as a share of reference speech."""
        return (self.missed_s + self.false_alarm_s + self.confusion_s) / max(self.speech_s, 1e-9)

    @property
    def confusion(self) -> float:
        """Speech given to the wrong speaker, as a share of reference speech."""
        return self.confusion_s / max(self.speech_s, 1e-9)

    @property
    def missed(self) -> float:
        """Reference speech with no hypothesis speaker, as a share of reference speech."""
        return self.missed_s / max(self.speech_s, 1e-9)

    @property
    def false_alarm(self) -> float:
        """Hypothesis speech where the reference has none, as a share of reference speech."""
        return self.false_alarm_s / max(self.speech_s, 1e-9)


def _matrix(turns: Labelled, n: int, step: float) -> tuple[np.ndarray, list[Hashable]]:
    names: list[Hashable] = []
    for _, _, who in turns:
        if who not in names:
            names.append(who)
    m = np.zeros((len(names), n), dtype=bool)
    for start, end, who in turns:
        a, b = int(round(start / step)), int(round(end / step))
        m[names.index(who), max(0, a) : max(0, min(n, b))] = True
    return m, names


def der(reference: Labelled, hypothesis: Labelled, *, step: float = 0.01) -> DerResult:
    """Score ``hypothesis`` against ``reference`` on a ``step``-second grid.

    Speakers are matched one-to-one to maximise overlapping time (Hungarian algorithm), as in md-eval/pyannote.
    Per frame: missed = max(0, ref - hyp), false alarm = max(0, hyp - ref), confusion = min(ref, hyp) - correct.
    """
    from scipy.optimize import linear_sum_assignment

    end = max([e for _, e, _ in reference] + [e for _, e, _ in hypothesis] + [0.0])
    n = int(np.ceil(end / step)) + 1
    ref, ref_names = _matrix(reference, n, step)
    hyp, hyp_names = _matrix(hypothesis, n, step)
    mapping: dict[Hashable, Hashable] = {}
    correct = np.zeros(n, dtype=np.int64)
    if len(ref_names) and len(hyp_names):
        overlap = ref.astype(np.int64) @ hyp.T.astype(np.int64)
        rows, cols = linear_sum_assignment(-overlap)
        for r, c in zip(rows, cols, strict=True):
            mapping[hyp_names[c]] = ref_names[r]
            correct += ref[r] & hyp[c]
    n_ref = ref.sum(axis=0) if len(ref_names) else np.zeros(n, dtype=np.int64)
    n_hyp = hyp.sum(axis=0) if len(hyp_names) else np.zeros(n, dtype=np.int64)
    missed = np.maximum(0, n_ref - n_hyp).sum() * step
    false_alarm = np.maximum(0, n_hyp - n_ref).sum() * step
    confusion = (np.minimum(n_ref, n_hyp) - correct).sum() * step
    return DerResult(
        speech_s=float(n_ref.sum() * step),
        missed_s=float(missed),
        false_alarm_s=float(false_alarm),
        confusion_s=float(confusion),
        mapping=mapping,
    )
