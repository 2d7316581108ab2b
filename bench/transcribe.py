"""Transcription speed and memory: raw faster-whisper vs insight's pipeline, on the same model and settings.

For each input (the 2-minute sales call, and 30-minute and 2-hour concatenations of real English clips) it runs
both, each in a fresh subprocess so that peak memory is that run's alone, and prints one table:

    input, audio length, raw seconds / x real time / peak MiB, pipeline seconds / x real time / peak MiB,
    ratio pipeline/raw.

"Raw" is what a user of faster-whisper would write: ``BatchedInferencePipeline.transcribe(path)`` on the whole
file with the same model, compute type, batch size, beam size, VAD and word timestamps. "Pipeline" is
``insight.transcribe.core.transcribe_path`` as the worker runs it (probe, windowed decode, language detection,
hallucination guard).

    python bench/transcribe.py                    # all three inputs
    python bench/transcribe.py --inputs call 30m  # a subset

Needs ``../shared/data/audio`` (the real clips) and the provisioned model (``insight models install``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
AUDIO = ROOT.parent / "shared" / "data" / "audio" / "en"
CLIPS = [
    "test_call_audio.wav",
    "katiesteve.wav",
    "Auto_Repairs_40_UTC_stereo_L-caller_R-agent.wav",
    "jfk.flac",
    "stereo_diarization.wav",
]


def concatenate(out: Path, seconds: float) -> Path:
    """Write a 16 kHz mono WAV of about ``seconds`` by repeating the real clips with 0.7 s gaps (streamed)."""
    from insight.transcribe.audio import SAMPLE_RATE, iter_windows

    gap = np.zeros(int(0.7 * SAMPLE_RATE), dtype=np.int16)
    written = 0
    target = int(seconds * SAMPLE_RATE)
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        while written < target:
            for name in CLIPS:
                for window in iter_windows(AUDIO / name, split_channels=False):
                    pcm = (np.clip(window.samples[0], -1, 1) * 32767).astype(np.int16)
                    pcm = pcm[: target - written]
                    w.writeframes(pcm.tobytes())
                    written += len(pcm)
                w.writeframes(gap.tobytes())
                if written >= target:
                    break
    return out


def run_raw(path: Path, model_dir: Path, batch_size: int, threads: int, beam_size: int) -> dict[str, float]:
    from faster_whisper import BatchedInferencePipeline, WhisperModel

    t0 = time.perf_counter()
    model = WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=threads, local_files_only=True)
    load = time.perf_counter() - t0
    pipe = BatchedInferencePipeline(model)
    t0 = time.perf_counter()
    segments, info = pipe.transcribe(
        str(path), batch_size=batch_size, beam_size=beam_size, word_timestamps=True, vad_filter=True
    )
    n = sum(1 for _ in segments)
    return {"seconds": time.perf_counter() - t0, "load_s": load, "segments": n, "audio_s": info.duration}


def run_pipeline(path: Path, model_dir: Path, batch_size: int, threads: int, beam_size: int) -> dict[str, float]:
    from insight.transcribe.audio_probe import probe_audio
    from insight.transcribe.core import transcribe_path
    from insight.transcribe.engine import WhisperTranscriber
    from insight.transcribe.types import TranscribeOptions

    t0 = time.perf_counter()
    transcriber = WhisperTranscriber(model_dir, compute_type="int8", cpu_threads=threads)
    load = time.perf_counter() - t0
    t0 = time.perf_counter()
    info = probe_audio(path)
    transcript = transcribe_path(
        path,
        transcriber=transcriber,
        duration_s=info.duration_s,
        channels=info.channels,
        dual_mono=info.dual_mono,
        options=TranscribeOptions(
            batch_size=batch_size, beam_size=beam_size, word_timestamps=True, split_channels=False
        ),
    )
    return {
        "seconds": time.perf_counter() - t0,
        "load_s": load,
        "segments": len(transcript.segments),
        "audio_s": info.duration_s,
    }


def child(kind: str, path: Path, model_dir: Path, batch_size: int, threads: int, beam_size: int) -> None:
    result = (run_raw if kind == "raw" else run_pipeline)(path, model_dir, batch_size, threads, beam_size)
    result["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def measure(kind: str, path: Path, model_dir: Path, batch_size: int, threads: int, beam_size: int) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", kind, str(path), "--model-dir", str(model_dir)]
    cmd += ["--batch-size", str(batch_size), "--threads", str(threads), "--beam-size", str(beam_size)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inputs", nargs="+", default=["call", "30m", "2h"], choices=["call", "30m", "2h"])
    parser.add_argument("--model-dir", type=Path, default=None)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=0, help="CTranslate2 threads (0 = one per core)")
    parser.add_argument("--beam-size", type=int, default=None, help="beam size (default: the configured one)")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from insight.settings import Settings

    settings = Settings()
    if args.beam_size is None:
        args.beam_size = settings.whisper_beam_size
    if args.model_dir is None:
        from insight.transcribe.provision import resolve_whisper_model

        args.model_dir = Path(
            resolve_whisper_model(
                settings.whisper_model, settings.models_dir, allow_download=settings.allow_model_download
            )
        )
    if args.child:
        child(args.child[0], Path(args.child[1]), args.model_dir, args.batch_size, args.threads, args.beam_size)
        return

    if not AUDIO.is_dir():
        sys.exit(f"needs the real clips in {AUDIO}")
    print(
        f"model {args.model_dir} int8, batch {args.batch_size}, beam {args.beam_size}, VAD, word timestamps;"
        f" {os.cpu_count()} cores"
    )
    with tempfile.TemporaryDirectory(prefix="insight-bench-") as tmp:
        inputs = {"call": AUDIO / "test_call_audio.wav"}
        if "30m" in args.inputs:
            inputs["30m"] = concatenate(Path(tmp) / "30m.wav", 30 * 60)
        if "2h" in args.inputs:
            inputs["2h"] = concatenate(Path(tmp) / "2h.wav", 2 * 3600)
        header = (
            f"{'input':<6}{'audio':>8} | {'raw s':>7}{'x RT':>7}{'MiB':>7} | {'insight s':>9}{'x RT':>7}{'MiB':>7}"
            f" | {'ratio':>6}"
        )
        print(header)
        print("-" * len(header))
        for key in args.inputs:
            path = inputs[key]
            raw = measure("raw", path, args.model_dir, args.batch_size, args.threads, args.beam_size)
            ours = measure("pipeline", path, args.model_dir, args.batch_size, args.threads, args.beam_size)
            audio_s = ours["audio_s"]
            print(
                f"{key:<6}{audio_s / 60:>7.1f}m | {raw['seconds']:>7.1f}{audio_s / raw['seconds']:>6.1f}x"
                f"{raw['peak_mib']:>7.0f} | {ours['seconds']:>9.1f}{audio_s / ours['seconds']:>6.1f}x"
                f"{ours['peak_mib']:>7.0f} | {ours['seconds'] / raw['seconds']:>6.2f}",
                flush=True,
            )
    print("x RT = audio seconds per processing second (model load excluded); MiB = peak resident memory")


if __name__ == "__main__":
    main()
