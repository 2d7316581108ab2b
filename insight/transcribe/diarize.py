"""Who spoke when in a mono recording: silero VAD regions + resemblyzer voice embeddings + agglomerative clustering.

Stereo telephony needs none of this (one speaker per channel); see ``insight.transcribe.speakers``.

The recording is cut into speech regions by VAD. Each region is embedded with sliding 1.6 s windows (resemblyzer's
partial-utterance length) every ``hop_s`` seconds, after the same loudness normalisation resemblyzer's
``preprocess_wav`` applies (its long-silence trimming is left out: it would move every timestamp). Windows from
regions of at least ``min_cluster_s`` are clustered (cosine distance, average linkage); windows of shorter regions,
whose embeddings are noisier, join the nearest cluster centre afterwards. Each 100 ms frame of speech takes the label
of the nearest window centre in its region, and label runs shorter than ``min_turn_s`` are absorbed by their
neighbours.

When the number of speakers is not given it is estimated: for every k in 2..``max_speakers`` the windows are
clustered and scored by the silhouette coefficient (cosine); the best k wins if its silhouette reaches
``min_silhouette`` and its clusters do not all sound alike (centroid cosine below ``same_voice_similarity``).
Otherwise, and whenever there is too little speech to tell voices apart (under ``min_speech_to_split_s`` seconds of
speech in all), the recording has one speaker. A short voice memo is thus one speaker. A short phone call often has
few regions of a second or more, so when those give too few windows to cluster on, every window is clustered.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from insight.transcribe.audio import SAMPLE_RATE, Audio

log = logging.getLogger(__name__)

Embeddings = npt.NDArray[np.float32]

_FRAME_S = 0.1
_WINDOW_S = 1.6  # resemblyzer's partials_n_frames (160) x 10 ms
_MEL_STEP = 160  # samples per mel frame (10 ms at 16 kHz)


@dataclass(frozen=True, slots=True)
class SpeakerTurn:
    """A stretch of speech by one speaker (seconds from the start of the recording)."""

    start: float
    end: float
    speaker: int


@dataclass(frozen=True, slots=True)
class Diarization:
    """The result of ``diarize``: turns in time order and one centroid embedding per speaker (index = speaker)."""

    turns: tuple[SpeakerTurn, ...]
    centroids: Embeddings
    num_speakers: int
    estimated: bool


@dataclass(frozen=True, slots=True)
class DiarizeOptions:
    """Knobs of mono diarization (defaults measured on the synthetic and real test dialogues)."""

    hop_s: float = 0.8
    min_cluster_s: float = 1.0
    min_turn_s: float = 0.6
    max_speakers: int = 6
    min_silhouette: float = 0.12
    # Splitting needs evidence: under this much speech in all a recording is one speaker unless the upload says
    # otherwise, and so is one whose clusters all sound alike (centroid cosine above this). Counted over every
    # region, not only the long ones: a 30 s phone call has ~20 s of speech in many short replies.
    min_speech_to_split_s: float = 12.0
    # Fewer windows than this from regions of min_cluster_s or more: cluster every window instead.
    min_windows_to_split: int = 16
    same_voice_similarity: float = 0.86
    max_cluster_windows: int = 2500
    vad_min_silence_ms: int = 250


class VoiceEncoder:
    """resemblyzer's speaker encoder (weights ship in its wheel); ``Models.voice_encoder`` loads one per process."""

    def __init__(self) -> None:
        import torch
        from resemblyzer import VoiceEncoder as _Encoder

        self._torch = torch
        self._encoder = _Encoder("cpu", verbose=False)

    def embed_windows(
        self, audio: Audio, regions: Sequence[tuple[int, int]], windows: Sequence[tuple[int, int, int]]
    ) -> Embeddings:
        """One L2-normalised 256-d embedding per window ``(region index, start, end)`` (each up to 1.6 s).

        Each region is loudness-normalised as resemblyzer's ``preprocess_wav`` does (so a quiet speaker is not a
        different speaker) and turned into a mel spectrogram once; windows are slices of it.
        """
        from resemblyzer.audio import normalize_volume, wav_to_mel_spectrogram

        out = np.zeros((len(windows), 256), dtype=np.float32)
        if not windows:
            return out
        mels: dict[int, npt.NDArray[np.float32]] = {}
        slices: list[npt.NDArray[np.float32]] = []
        for r, a, b in windows:
            ra, rb = regions[r]
            if r not in mels:
                wav = normalize_volume(audio[ra:rb].astype(np.float64), -30, increase_only=True)
                mels[r] = wav_to_mel_spectrogram(wav)
            mel = mels[r]
            first = (a - ra) // _MEL_STEP
            slices.append(mel[first : first + max(1, (b - a) // _MEL_STEP)])
        # Batch equal lengths together (most windows are exactly 160 frames); the LSTM needs no padding then.
        by_len: dict[int, list[int]] = {}
        for i, mel in enumerate(slices):
            by_len.setdefault(mel.shape[0], []).append(i)
        for idx in by_len.values():
            for chunk in range(0, len(idx), 256):
                part = idx[chunk : chunk + 256]
                batch = self._torch.from_numpy(np.stack([slices[i] for i in part]))
                # Grad mode is per thread: the encoder may have been loaded on another thread (the worker warms
                # the models in the background), so turning it off at load time would not cover this one.
                with self._torch.no_grad():
                    out[part] = self._encoder(batch).cpu().numpy()
        return out

    def embed(self, audio: Audio) -> Embeddings:
        """A voice print of ``audio``: the mean of its 1.6 s window embeddings, L2-normalised."""
        regions = [(0, len(audio))]
        emb = self.embed_windows(audio, regions, sliding_windows(regions, _WINDOW_S / 2))
        voice: Embeddings = _normalise(emb.mean(axis=0, keepdims=True))[0]
        return voice


def speech_regions(audio: Audio, *, min_silence_ms: int = 250) -> list[tuple[int, int]]:
    """Silero VAD speech regions as sample spans."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(min_silence_duration_ms=min_silence_ms, speech_pad_ms=100, min_speech_duration_ms=200)
    return [(int(t["start"]), int(t["end"])) for t in get_speech_timestamps(audio, options)]


def _normalise(x: npt.NDArray[Any]) -> Embeddings:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    out: Embeddings = (x / np.maximum(norms, 1e-9)).astype(np.float32)
    return out


def sliding_windows(regions: Sequence[tuple[int, int]], hop_s: float) -> list[tuple[int, int, int]]:
    """Sliding 1.6 s windows over every region: (region index, start sample, end sample)."""
    size = int(_WINDOW_S * SAMPLE_RATE)
    hop = int(hop_s * SAMPLE_RATE)
    out: list[tuple[int, int, int]] = []
    for r, (a, b) in enumerate(regions):
        if b - a <= size:
            out.append((r, a, b))
            continue
        starts = list(range(a, b - size + 1, hop))
        if starts[-1] + size < b:
            starts.append(b - size)
        out.extend((r, s, s + size) for s in starts)
    return out


def embed_speech(
    audio: Audio,
    encoder: VoiceEncoder,
    *,
    hop_s: float,
    min_silence_ms: int = 250,
    limit: int | None = None,
) -> tuple[list[tuple[int, int]], list[tuple[int, int, int]], Embeddings]:
    """VAD, sliding windows and one voice embedding per window: the voice prints of one piece of audio.

    Returns the speech regions, the windows ``(region index, start, end)`` (the first ``limit`` when given) and their
    embeddings, all in samples relative to ``audio``.
    """
    regions = speech_regions(audio, min_silence_ms=min_silence_ms)
    windows = sliding_windows(regions, hop_s)
    if limit is not None:
        windows = windows[:limit]
    return regions, windows, encoder.embed_windows(audio, regions, windows)


def _cluster(emb: Embeddings, k: int) -> npt.NDArray[np.int64]:
    """Average-linkage cosine clustering into ``k`` clusters of real speakers.

    Average linkage isolates outliers (a cough, a laugh, a crosstalk window) as singleton clusters. So clustering
    asks for more clusters until ``k`` of them have at least ``_min_cluster(n)`` members, then hands the members of
    the small ones to the nearest large cluster.
    """
    from sklearn.cluster import AgglomerativeClustering

    n = len(emb)
    floor = _min_cluster(n)
    labels = np.zeros(n, dtype=np.int64)
    for extra in range(0, 6):
        if k + extra > n:
            break
        model = AgglomerativeClustering(n_clusters=k + extra, metric="cosine", linkage="average")
        labels = np.asarray(model.fit_predict(emb), dtype=np.int64)
        counts = np.bincount(labels, minlength=k + extra)
        big = np.flatnonzero(counts >= floor)
        if len(big) >= k:
            big = big[np.argsort(-counts[big])][:k]
            centres = _normalise(np.stack([emb[labels == c].mean(axis=0) for c in big]))
            keep = np.isin(labels, big)
            remap = {int(c): i for i, c in enumerate(big)}
            out = np.array([remap.get(int(c), -1) for c in labels], dtype=np.int64)
            out[~keep] = np.argmax(emb[~keep] @ centres.T, axis=1)
            return out
    return labels


def _min_cluster(n: int) -> int:
    return max(3, int(0.03 * n))


def _centroids(emb: Embeddings, labels: npt.NDArray[np.int64], k: int) -> Embeddings:
    return _normalise(np.stack([emb[labels == c].mean(axis=0) for c in range(k)]))


def _choose_k(emb: Embeddings, options: DiarizeOptions, speech_s: float) -> tuple[int, npt.NDArray[np.int64]]:
    from sklearn.metrics import silhouette_score

    best_k, best_score, best_labels = 1, -1.0, np.zeros(len(emb), dtype=np.int64)
    if speech_s < options.min_speech_to_split_s or len(emb) < 4:
        return best_k, best_labels
    for k in range(2, min(options.max_speakers, len(emb) - 1) + 1):
        labels = _cluster(emb, k)
        # A "speaker" with a handful of windows is an outlier cluster (a cough, a laugh), not a person.
        if len(np.unique(labels)) < k or np.bincount(labels).min() < _min_cluster(len(emb)):
            continue
        score = float(silhouette_score(emb, labels, metric="cosine"))
        log.debug("k=%d silhouette=%.3f", k, score)
        if score > best_score:
            best_k, best_score, best_labels = k, score, labels
    if best_score < options.min_silhouette:
        return 1, np.zeros(len(emb), dtype=np.int64)
    centres = _centroids(emb, best_labels, best_k)
    similarity = centres @ centres.T
    if similarity[np.triu_indices(best_k, 1)].min() >= options.same_voice_similarity:
        return 1, np.zeros(len(emb), dtype=np.int64)
    return best_k, best_labels


def diarize(
    audio: Audio,
    *,
    num_speakers: int | None = None,
    options: DiarizeOptions | None = None,
    encoder: VoiceEncoder | None = None,
) -> Diarization:
    """Find who spoke when in 16 kHz mono ``audio`` (the whole recording in memory; see ``diarize_stream``)."""
    return diarize_stream([(0.0, audio)], num_speakers=num_speakers, options=options, encoder=encoder)


def diarize_stream(
    chunks: Iterable[tuple[float, Audio]],
    *,
    num_speakers: int | None = None,
    options: DiarizeOptions | None = None,
    encoder: VoiceEncoder | None = None,
) -> Diarization:
    """Find who spoke when, reading the recording as consecutive ``(offset_s, samples)`` chunks.

    Only the embeddings (1 KiB per ``hop_s``) are kept across chunks, so memory does not grow with the audio.

    Args:
        chunks: consecutive 16 kHz mono float32 pieces of the recording with their start times.
        num_speakers: known number of speakers (from the upload's metadata); estimated when None.
        options: tuning knobs.
        encoder: the voice encoder (the process-wide one of ``shared_models`` by default).

    Returns:
        Turns in time order with speakers numbered by first appearance, and each speaker's centroid.
    """
    options = options or DiarizeOptions()
    if encoder is None:
        from insight.model_holder import shared_models

        encoder = shared_models().voice_encoder()
    regions: list[tuple[int, int]] = []  # absolute sample spans
    windows: list[tuple[int, int, int]] = []
    parts: list[Embeddings] = []
    for offset_s, audio in chunks:
        local, local_windows, embeddings = embed_speech(
            audio, encoder, hop_s=options.hop_s, min_silence_ms=options.vad_min_silence_ms
        )
        parts.append(embeddings)
        base = int(round(offset_s * SAMPLE_RATE))
        windows.extend((r + len(regions), a + base, b + base) for r, a, b in local_windows)
        regions.extend((a + base, b + base) for a, b in local)
    if not regions:
        return Diarization(turns=(), centroids=np.zeros((0, 256), np.float32), num_speakers=0, estimated=False)
    emb = np.concatenate(parts)
    min_len = int(options.min_cluster_s * SAMPLE_RATE)
    long_mask = np.array([regions[r][1] - regions[r][0] >= min_len for r, _, _ in windows])
    if long_mask.sum() < options.min_windows_to_split:  # too little long speech to cluster on: use everything
        long_mask[:] = True
    long_idx = np.flatnonzero(long_mask)
    # Agglomerative clustering is O(n^2) in memory: cluster an even subsample of a long call's windows, then assign
    # every window to the nearest centre.
    stride = max(1, int(np.ceil(len(long_idx) / options.max_cluster_windows)))
    sample = emb[long_idx[::stride]]

    estimated = num_speakers is None
    if len(sample) < 2:
        k, sample_labels = 1, np.zeros(len(sample), dtype=np.int64)
    elif num_speakers is None:
        speech_s = sum(b - a for a, b in regions) / SAMPLE_RATE
        k, sample_labels = _choose_k(sample, options, speech_s)
    else:
        k = max(1, min(num_speakers, len(sample)))
        sample_labels = _cluster(sample, k) if k > 1 else np.zeros(len(sample), dtype=np.int64)
    centres = _centroids(sample, sample_labels, k)
    labels = np.argmax(emb @ centres.T, axis=1)
    # One refinement pass over all long windows (k-means style) so centres reflect the full call.
    if k > 1 and all((labels[long_mask] == c).any() for c in range(k)):
        centres = _centroids(emb[long_mask], labels[long_mask], k)
        labels = np.argmax(emb @ centres.T, axis=1)

    turns, order = _renumber(_turns(regions, windows, labels, options.min_turn_s))
    return Diarization(turns=turns, centroids=centres[order], num_speakers=len(order), estimated=estimated)


def _turns(
    regions: Sequence[tuple[int, int]],
    windows: Sequence[tuple[int, int, int]],
    labels: npt.NDArray[np.int64],
    min_turn_s: float,
) -> list[SpeakerTurn]:
    by_region: dict[int, list[tuple[float, int]]] = {}
    for (r, a, b), label in zip(windows, labels, strict=True):
        by_region.setdefault(r, []).append(((a + b) / 2 / SAMPLE_RATE, int(label)))
    out: list[SpeakerTurn] = []
    for r, (a, b) in enumerate(regions):
        centres = by_region[r]
        start, end = a / SAMPLE_RATE, b / SAMPLE_RATE
        n = max(1, int(round((end - start) / _FRAME_S)))
        times = start + (np.arange(n) + 0.5) * (end - start) / n
        cs = np.array([c for c, _ in centres])
        ls = np.array([lab for _, lab in centres])
        frame_labels = ls[np.abs(times[:, None] - cs[None, :]).argmin(axis=1)]
        runs = _runs(frame_labels)
        runs = _absorb_short(runs, max(1, int(round(min_turn_s / ((end - start) / n)))))
        step = (end - start) / n
        for lab, i, j in runs:
            out.append(SpeakerTurn(start=round(start + i * step, 3), end=round(start + j * step, 3), speaker=lab))
    return out


def _runs(labels: npt.NDArray[np.int64]) -> list[tuple[int, int, int]]:
    """(label, first frame, end frame) for each run of equal labels."""
    runs: list[tuple[int, int, int]] = []
    i = 0
    for j in range(1, len(labels) + 1):
        if j == len(labels) or labels[j] != labels[i]:
            runs.append((int(labels[i]), i, j))
            i = j
    return runs


def _absorb_short(runs: list[tuple[int, int, int]], min_frames: int) -> list[tuple[int, int, int]]:
    """Give runs shorter than ``min_frames`` to the longer neighbour, then merge equal neighbours."""
    runs = list(runs)
    changed = True
    while changed and len(runs) > 1:
        changed = False
        shortest = min(range(len(runs)), key=lambda i: runs[i][2] - runs[i][1])
        lab, i, j = runs[shortest]
        if j - i >= min_frames:
            break
        left = runs[shortest - 1] if shortest > 0 else None
        right = runs[shortest + 1] if shortest + 1 < len(runs) else None
        pick = left if right is None or (left is not None and left[2] - left[1] >= right[2] - right[1]) else right
        assert pick is not None
        runs[shortest] = (pick[0], i, j)
        merged: list[tuple[int, int, int]] = []
        for run in runs:
            if merged and merged[-1][0] == run[0]:
                merged[-1] = (run[0], merged[-1][1], run[2])
            else:
                merged.append(run)
        runs = merged
        changed = True
    return runs


def _renumber(turns: list[SpeakerTurn]) -> tuple[tuple[SpeakerTurn, ...], list[int]]:
    """Number speakers 0, 1, ... by first appearance; drop clusters that ended up with no turn."""
    order: list[int] = []
    for t in turns:
        if t.speaker not in order:
            order.append(t.speaker)
    mapping = {old: new for new, old in enumerate(order)}
    return tuple(SpeakerTurn(t.start, t.end, mapping[t.speaker]) for t in turns), order


class SpeakerLookup:
    """Speaker at a time: the turn containing it, else the nearest turn (O(log n) per lookup)."""

    def __init__(self, turns: Sequence[SpeakerTurn]) -> None:
        self._turns = sorted(turns, key=lambda t: t.start)
        self._starts = np.array([t.start for t in self._turns])

    def __call__(self, t: float) -> int | None:
        """The speaker at ``t`` seconds: the turn containing it, else the nearest turn; None without turns."""
        if not self._turns:
            return None
        i = int(np.searchsorted(self._starts, t, side="right")) - 1
        candidates = [self._turns[j] for j in (i - 1, i, i + 1) if 0 <= j < len(self._turns)]
        inside = [c for c in candidates if c.start <= t <= c.end]
        if inside:
            return inside[-1].speaker
        return min(candidates, key=lambda c: c.start - t if t < c.start else t - c.end).speaker
