"""Speaker separation quality and cost: DER and speaker confusion on every labelled recording, and the time the
speaker stage adds over transcription alone.

Labelled recordings are the synthetic dialogues (two- and three-party, Japanese and English) rendered offline by
``insight.demo.samples`` with exact turn times. For each, mono (diarization by voice) and, for two-party calls,
stereo (one speaker per channel) are scored. ``test_call_audio.wav`` and ``katiesteve.wav`` from ../shared/data (real
mono calls without turn labels) add timing rows when present.

A second table scores the real labelled mono references (``tests/insight/transcribe/real_refs.py``): the stereo
telephone calls mixed down to mono with each channel's own speech as reference (whole and as 30 s excerpts), and
katiesteve.wav. It shows DER with the count estimated beside the diarizer of git revision ``--before`` (default
8c78f64, before short calls were clustered on all their speech), and DER with the count given.

    python bench/diarize.py [--before REV] [--real-only]

Prints one table: file, mode, speakers found / true, DER, missed, false alarm, confusion (shares of reference
speech, no collar, overlaps scored), transcription seconds, speaker-stage seconds and their ratio (goal <= 15%).
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from insight.demo import samples  # noqa: E402
from insight.model_holder import Models  # noqa: E402
from insight.settings import Settings  # noqa: E402
from insight.transcribe.audio import iter_windows  # noqa: E402
from insight.transcribe.audio_probe import probe_audio  # noqa: E402
from insight.transcribe.core import transcribe_path  # noqa: E402
from insight.transcribe.der import der  # noqa: E402
from insight.transcribe.diarize import diarize_stream  # noqa: E402
from insight.transcribe.engine import WhisperTranscriber  # noqa: E402
from insight.transcribe.provision import resolve_whisper_model  # noqa: E402
from insight.transcribe.types import TranscribeOptions  # noqa: E402
from tests.insight.transcribe.dialogues import EN_THREE, JA_THREE  # noqa: E402
from tests.insight.transcribe.real_refs import all_references  # noqa: E402

AUDIO = ROOT.parent / "shared" / "data" / "audio" / "en"


def diarizer_at(rev: str) -> Callable[..., Any] | None:
    """``diarize`` as it was at git revision ``rev`` (None when git or the revision is unavailable)."""
    try:
        source = subprocess.run(
            ["git", "show", f"{rev}:insight/transcribe/diarize.py"], cwd=ROOT, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    path = Path(tempfile.mkdtemp(prefix="insight-before-")) / "diarize_before.py"
    path.write_bytes(source)
    spec = importlib.util.spec_from_file_location("diarize_before", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    fn: Callable[..., Any] = module.diarize
    return fn


def real_references(before_rev: str) -> None:
    """DER on the real downmixed references: the diarizer at ``before_rev`` and now, count estimated and given."""
    from insight.transcribe.diarize import diarize

    before = diarizer_at(before_rev)
    header = (
        f"{'real mono reference':<24}{'speech':>7}{'spk':>5}{'before':>8}{'spk':>5}{'DER':>7}{'miss':>7}{'FA':>7}"
        f"{'conf':>7}{'given':>7}"
    )
    print(f"\nreal labelled mono references (DER before = {before_rev}, count estimated unless 'given')")
    print(header)
    print("-" * len(header))
    for ref in all_references(AUDIO):
        speech = sum(e - s for s, e, _ in ref.turns)
        old = "-", "-"
        if before is not None:
            was = before(ref.audio)
            old = str(was.num_speakers), f"{der(ref.turns, [(t.start, t.end, t.speaker) for t in was.turns]).der:.1%}"
        now = diarize(ref.audio)
        score = der(ref.turns, [(t.start, t.end, t.speaker) for t in now.turns])
        given = diarize(ref.audio, num_speakers=ref.speakers)
        given_der = der(ref.turns, [(t.start, t.end, t.speaker) for t in given.turns]).der
        print(
            f"{ref.key:<24}{speech:>7.1f}{old[0] + '/' + str(ref.speakers):>5}{old[1]:>8}"
            f"{str(now.num_speakers) + '/' + str(ref.speakers):>5}{score.der:>7.1%}{score.missed:>7.1%}"
            f"{score.false_alarm:>7.1%}{score.confusion:>7.1%}{given_der:>7.1%}",
            flush=True,
        )
    print("stereo_read_overlap: both readers talk at once for half of it; one speaker at a time cannot score well.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default="8c78f64", help="git revision whose diarizer gives the 'before' DER")
    parser.add_argument("--real-only", action="store_true", help="only the real labelled mono references")
    args = parser.parse_args()
    if args.real_only:
        real_references(args.before)
        return
    settings = Settings()
    model = resolve_whisper_model(settings.whisper_model, settings.models_dir, allow_download=False)
    transcriber = WhisperTranscriber(model, compute_type="int8")
    encoder = Models(settings).voice_encoder()
    scripts = [s for s in samples.SCRIPTS if s.language == "ja" or samples.english_available()]
    scripts += [JA_THREE] + ([EN_THREE] if samples.english_available() else [])
    # Warm-up: the first mel spectrogram compiles librosa's kernels; a worker pays that once per process.
    warm = samples.synthesize(samples.SCRIPTS[0], Path(tempfile.mkdtemp(prefix="insight-warm-")))
    diarize_stream([(0.0, next(iter_windows(warm.mono_path, split_channels=False)).samples[0])], encoder=encoder)

    header = (
        f"{'file':<26}{'mode':<7}{'spk':>6}{'DER':>7}{'miss':>7}{'FA':>7}{'conf':>7}"
        f"{'ASR s':>8}{'spk s':>7}{'ratio':>7}"
    )
    print(header)
    print("-" * len(header))
    totals = {"asr": 0.0, "spk": 0.0}
    with tempfile.TemporaryDirectory(prefix="insight-bench-") as tmp:
        rows: list[tuple[str, Path, list[tuple[float, float, str]] | None, int | None]] = []
        for script in scripts:
            call = samples.synthesize(script, Path(tmp))
            script_turns = [(t.start, t.end, t.speaker) for t in call.turns]
            rows.append((script.key, call.mono_path, script_turns, len({t.speaker for t in call.turns})))
        for name in ("test_call_audio.wav", "katiesteve.wav"):
            if (AUDIO / name).exists():
                rows.append((name.removesuffix(".wav"), AUDIO / name, None, None))
        for key, path, ref, true_n in rows:
            info = probe_audio(path)
            t0 = time.perf_counter()
            transcribe_path(
                path,
                transcriber=transcriber,
                duration_s=info.duration_s,
                channels=info.channels,
                dual_mono=info.dual_mono,
                options=TranscribeOptions(split_channels=False),
            )
            asr_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            chunks = (
                (w.offset_s, np.ascontiguousarray(w.samples[0])) for w in iter_windows(path, split_channels=False)
            )
            result = diarize_stream(chunks, encoder=encoder)
            spk_s = time.perf_counter() - t0
            totals["asr"] += asr_s
            totals["spk"] += spk_s
            found = f"{result.num_speakers}/{true_n if true_n else '?'}"
            if ref is not None:
                score = der(ref, [(t.start, t.end, t.speaker) for t in result.turns])
                quality = f"{score.der:>7.1%}{score.missed:>7.1%}{score.false_alarm:>7.1%}{score.confusion:>7.1%}"
            else:
                quality = f"{'-':>7}{'-':>7}{'-':>7}{'-':>7}"
            print(f"{key:<26}{'mono':<7}{found:>6}{quality}{asr_s:>8.1f}{spk_s:>7.2f}{spk_s / asr_s:>7.1%}", flush=True)
    print("-" * len(header))
    ratio = totals["spk"] / totals["asr"]
    print(f"{'all':<26}{'':<7}{'':>6}{'':>28}{totals['asr']:>8.1f}{totals['spk']:>7.2f}{ratio:>7.1%}")
    print("stereo calls need no diarization (one speaker per channel): their speaker stage only splits utterances.")
    real_references(args.before)


if __name__ == "__main__":
    main()
