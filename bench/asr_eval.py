"""Accuracy and speed of insight's transcription against raw faster-whisper, on every real clip with a reference.

One run, one table: for each clip in ``../shared/data/audio`` that has a reference transcript, the error rate (WER
for English, CER for Japanese) and the real-time factor (audio seconds per processing second) of

- ``pipeline``: ``insight.transcribe.core.transcribe_path`` with the configured defaults (windows, VAD, language
  detection, hallucination guard, code-switching), and the same with other decoding settings;
- ``fw seq b5``: ``WhisperModel.transcribe(audio, beam_size=5)``, faster-whisper's own defaults;
- ``fw batch b1`` / ``fw batch b5``: ``BatchedInferencePipeline.transcribe(audio, batch_size=8, beam_size=1|5)``.

Every run uses the same model (the bundled Whisper base, int8 on CPU) and detects the language itself. Stereo files
whose channels differ are transcribed per channel by every engine (faster-whisper would otherwise mix them down).
The sales call's reference is another vendor's machine transcript (a silver reference). Timings are wall-clock on
a machine that may be busy with other work: compare columns of one run, not runs on different days.

    python bench/asr_eval.py                  # every engine
    python bench/asr_eval.py --engines pipeline "fw seq b5"
"""

from __future__ import annotations

import argparse
import os
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jiwer
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
AUDIO = ROOT.parent / "shared" / "data" / "audio"
MODEL_DIR = Path(os.environ.get("INSIGHT_TEST_MODEL_DIR", ROOT / ".insight" / "models"))


@dataclass(frozen=True)
class Clip:
    name: str
    path: Path
    language: str  # of the reference: "ja" is scored by CER, anything else by WER
    references: tuple[str, ...]  # one per channel when the channels are scored apart


def norm_en(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9' ]", " ", text.lower())).strip()


def norm_ja(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch.isalnum())


def clips() -> list[Clip]:
    """Every real clip with a reference."""
    en, ja = AUDIO / "en", AUDIO / "ja"
    ja_refs = dict(line.split(",", 1) for line in (ja / "transcripts.txt").read_text().splitlines() if "," in line)
    stereo = dict(
        line.split(":", 1) for line in (en / "stereo_diarization.reference.txt").read_text().splitlines() if ":" in line
    )
    silver = (en / "test_call_audio.azure_machine_transcript.txt").read_text()
    silver_text = " ".join(line.split("] spk=? ", 1)[1] for line in silver.splitlines() if "] spk=? " in line)
    return [
        Clip("jfk", en / "jfk.flac", "en", ((en / "jfk.reference.txt").read_text(),)),
        Clip("test_en_1", ja / "test_en_1.wav", "en", (ja_refs["test_en_1"],)),
        Clip("test_ja_2", ja / "test_ja_2.wav", "ja", (ja_refs["test_ja_2"],)),
        Clip("stereo_diarization", en / "stereo_diarization.wav", "en", (stereo["left"], stereo["right"])),
        Clip("test_call_audio (silver)", en / "test_call_audio.wav", "en", (silver_text,)),
    ]


def error_rate(clip: Clip, hypotheses: list[str]) -> float:
    """Errors over reference length, all channels pooled."""
    if clip.language == "ja":
        refs, hyps = [norm_ja(r) for r in clip.references], [norm_ja(h) for h in hypotheses]
        return float(jiwer.cer(refs, hyps))
    return float(jiwer.wer([norm_en(r) for r in clip.references], [norm_en(h) for h in hypotheses]))


def channel_audio(clip: Clip) -> list[np.ndarray]:
    """The clip as 16 kHz mono float32, one array per channel that has its own reference."""
    from insight.transcribe.audio import iter_windows

    split = len(clip.references) == 2
    windows = list(iter_windows(clip.path, split_channels=split, window_s=3600.0))
    return [np.concatenate([w.samples[ch] for w in windows]).astype(np.float32) for ch in range(2 if split else 1)]


Engine = Callable[[Clip], list[str]]


def engines(model_dir: Path) -> dict[str, Engine]:
    from faster_whisper import BatchedInferencePipeline, WhisperModel

    from insight.transcribe.core import transcribe_file
    from insight.transcribe.engine import WhisperTranscriber
    from insight.transcribe.provision import provision_bundled_whisper
    from insight.transcribe.types import TranscribeOptions

    path = provision_bundled_whisper(model_dir)
    transcriber = WhisperTranscriber(path, compute_type="int8")
    model: WhisperModel = transcriber.model
    batched = BatchedInferencePipeline(model)

    def pipeline(**opts: Any) -> Engine:
        def run(clip: Clip) -> list[str]:
            t = transcribe_file(clip.path, transcriber=transcriber, options=TranscribeOptions(**opts))
            if len(clip.references) == 2:
                return [" ".join(s.text for s in t.segments if s.channel == ch) for ch in (0, 1)]
            return [t.text]

        return run

    def raw(fn: Callable[[np.ndarray], tuple[Any, Any]]) -> Engine:
        def run(clip: Clip) -> list[str]:
            return [" ".join(s.text.strip() for s in fn(audio)[0]) for audio in channel_audio(clip)]

        return run

    from insight.settings import Settings

    defaults = Settings(_env_file=None)
    return {
        "pipeline": pipeline(beam_size=defaults.whisper_beam_size, batch_size=defaults.whisper_batch_size),
        "pipeline batch b1": pipeline(beam_size=1, batch_size=8),
        "pipeline batch b5": pipeline(beam_size=5, batch_size=8),
        "pipeline seq b5": pipeline(beam_size=5, batch_size=1),
        "fw seq b5": raw(lambda a: model.transcribe(a, beam_size=5)),
        "fw batch b1": raw(lambda a: batched.transcribe(a, batch_size=8, beam_size=1)),
        "fw batch b5": raw(lambda a: batched.transcribe(a, batch_size=8, beam_size=5)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", nargs="*", help="a subset of the engines (default: all)")
    parser.add_argument("--show-text", action="store_true", help="print every hypothesis")
    args = parser.parse_args()

    from insight.transcribe.audio_probe import probe_audio

    table = engines(MODEL_DIR)
    chosen = args.engines or list(table)
    material = clips()
    durations = {c.name: probe_audio(c.path).duration_s * len(c.references) for c in material}
    # One untimed pass warms the model and the VAD (first calls allocate).
    table[chosen[0]](material[0])
    results: dict[str, dict[str, tuple[float, float]]] = {}
    for name in chosen:
        results[name] = {}
        for clip in material:
            started = time.perf_counter()
            hyps = table[name](clip)
            elapsed = time.perf_counter() - started
            results[name][clip.name] = (error_rate(clip, hyps), durations[clip.name] / elapsed)
            if args.show_text:
                print(f"{name:18s} {clip.name}: {' | '.join(hyps)}")
    total_audio = sum(durations.values())
    header = f"{'clip':26s}" + "".join(f"{n:>20s}" for n in chosen)
    print(header)
    print("-" * len(header))
    for clip in material:
        metric = "CER" if clip.language == "ja" else "WER"
        cells = "".join(f"{results[n][clip.name][0]:>9.3f} {results[n][clip.name][1]:>6.1f}x   " for n in chosen)
        print(f"{clip.name + ' ' + metric:26s}{cells}")
    means = "".join(f"{np.mean([results[n][c.name][0] for c in material]):>9.3f}" + " " * 11 for n in chosen)
    print(f"{'mean error rate':26s}{means}")
    speed = "".join(
        f"{total_audio / sum(durations[c.name] / results[n][c.name][1] for c in material):>15.1f}x    " for n in chosen
    )
    print(f"{'x real time, all clips':26s}{speed}")


if __name__ == "__main__":
    main()
