"""Streaming decode of a recording into bounded windows of 16 kHz float32 samples."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16000
Audio = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class AudioWindow:
    """A slice of the recording: ``samples`` has shape (channels, n) and starts at ``offset_s``."""

    offset_s: float
    samples: Audio

    @property
    def duration_s(self) -> float:
        """Length of the window in seconds."""
        return float(self.samples.shape[1]) / SAMPLE_RATE


def _quietest_cut(buf: Audio, search_s: float) -> int:
    """Index of the quietest 100 ms frame in the last ``search_s`` seconds of ``buf``.

    Cutting a window there, rather than at a fixed sample, keeps words whole across window boundaries.
    """
    hop = SAMPLE_RATE // 10
    n = buf.shape[1]
    start = max(0, n - int(search_s * SAMPLE_RATE))
    tail = np.abs(buf[:, start:]).max(axis=0)
    frames = len(tail) // hop
    if frames < 2:
        return int(n)
    energy = tail[: frames * hop].reshape(frames, hop).mean(axis=1)
    return int(start + int(np.argmin(energy)) * hop + hop // 2)


def iter_windows(
    path: Path, *, split_channels: bool, window_s: float = 600.0, search_s: float = 20.0
) -> Iterator[AudioWindow]:
    """Decode ``path`` and yield consecutive windows of about ``window_s`` seconds.

    Memory stays bounded by the window size whatever the length of the recording. With ``split_channels`` a
    stereo file keeps its two channels (one speaker per channel in telephony recordings); otherwise channels are
    mixed down to mono.
    """
    layout = "stereo" if split_channels else "mono"
    target = int(window_s * SAMPLE_RATE)
    chunks: list[Audio] = []
    buffered = 0
    offset = 0
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        stream.codec_context.thread_type = "AUTO"
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=SAMPLE_RATE)

        def drain(frames: list[av.AudioFrame]) -> Iterator[AudioWindow]:
            nonlocal buffered, offset, chunks
            for out in frames:
                arr = out.to_ndarray().astype(np.float32, copy=False)
                chunks.append(arr)
                buffered += arr.shape[1]
            while buffered >= target + int(search_s * SAMPLE_RATE):
                buf = np.concatenate(chunks, axis=1)
                cut = _quietest_cut(buf[:, : target + int(search_s * SAMPLE_RATE)], 2 * search_s)
                yield AudioWindow(offset / SAMPLE_RATE, np.ascontiguousarray(buf[:, :cut]))
                offset += cut
                rest = buf[:, cut:]
                chunks, buffered = [rest], rest.shape[1]

        for frame in container.decode(stream):
            frame.pts = None  # let the resampler re-time frames; some containers carry broken pts
            yield from drain(resampler.resample(frame))
        yield from drain(resampler.resample(None))
    if buffered:
        yield AudioWindow(offset / SAMPLE_RATE, np.ascontiguousarray(np.concatenate(chunks, axis=1)))


def rms_dbfs(samples: Audio) -> float:
    """Root-mean-square level in dBFS (-120 for digital silence)."""
    if samples.size == 0:
        return -120.0
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return 20.0 * float(np.log10(max(rms, 1e-6)))
