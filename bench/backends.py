"""What the real-model tests see on other CPUs: accuracy of the bundled Whisper base under every CTranslate2 back end.

CTranslate2 picks its matrix back end and instruction set from the CPU it runs on: Intel MKL on Intel CPUs (when
built with it), its own kernels elsewhere, with AVX-512, AVX2 or generic code. Each gives slightly different
numbers, so Whisper's words can differ from one machine to another. This script runs the inputs of the ``model``
tests once per combination, each in a fresh process (the variables are read when CTranslate2 loads), and prints the
error rates and the words that differ, so that test thresholds can be set from the worst case with a margin.

    python bench/backends.py                       # every combination, every input
    python bench/backends.py --combos mkl0 mkl1    # a subset (names below)
    python bench/backends.py --json out.json       # also write the raw results

Inputs: ``jfk`` (WER), ``ja_2`` (Japanese CER), ``en_1`` (WER), ``stereo`` (WER per channel), ``call`` (the 2-minute
sales call: WER against another vendor's transcript, key terms), and, when espeak-ng is installed, ``en_synth`` (the
English scripted sales call: what Whisper hears of the names said in it). Needs ``../shared/data/audio`` and the
provisioned model (``insight models install``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
AUDIO = ROOT.parent / "shared" / "data" / "audio"
MODEL_DIR = Path(os.environ.get("INSIGHT_TEST_MODEL_DIR", ROOT / ".insight" / "models"))

# Forcing an instruction set in CTranslate2 does not reach MKL, which dispatches on its own: it gets the matching
# MKL_ENABLE_INSTRUCTIONS so that "AVX2" means an AVX2-only CPU for both.
COMBOS: dict[str, dict[str, str]] = {
    "mkl1": {"CT2_USE_MKL": "1"},
    "mkl1-avx2": {"CT2_USE_MKL": "1", "CT2_FORCE_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"},
    "mkl1-generic": {"CT2_USE_MKL": "1", "CT2_FORCE_CPU_ISA": "GENERIC", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2"},
    "mkl0": {"CT2_USE_MKL": "0"},
    "mkl0-avx2": {"CT2_USE_MKL": "0", "CT2_FORCE_CPU_ISA": "AVX2"},
    "mkl0-avx512": {"CT2_USE_MKL": "0", "CT2_FORCE_CPU_ISA": "AVX512"},
    "mkl0-generic": {"CT2_USE_MKL": "0", "CT2_FORCE_CPU_ISA": "GENERIC"},
}
# Names the scripted English call says (insight/demo/scripts.py).
EN_NAMES = ("David Morgan", "Emily", "Maria Lopez", "Thanks, David")


def norm_en(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9' ]", " ", text.lower())).strip()


def norm_ja(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch.isalnum())


def measure(inputs: list[str], synth_dir: Path | None) -> dict[str, Any]:
    """Run in the child process: transcribe every input as the tests do, return error rates and texts."""
    import jiwer

    from insight.transcribe.core import transcribe_file
    from insight.transcribe.engine import WhisperTranscriber
    from insight.transcribe.provision import provision_bundled_whisper
    from insight.transcribe.types import TranscribeOptions, Transcript

    transcriber = WhisperTranscriber(provision_bundled_whisper(MODEL_DIR), compute_type="int8")

    def run(path: Path, **opts: Any) -> Transcript:
        return transcribe_file(path, transcriber=transcriber, options=TranscribeOptions(**opts))

    ja_refs = dict(
        line.split(",", 1) for line in (AUDIO / "ja" / "transcripts.txt").read_text().splitlines() if "," in line
    )
    out: dict[str, Any] = {}
    for name in inputs:
        t0 = time.perf_counter()
        if name == "jfk":
            r = run(AUDIO / "en" / "jfk.flac")
            ref = (AUDIO / "en" / "jfk.reference.txt").read_text()
            out[name] = {"wer": jiwer.wer(norm_en(ref), norm_en(r.text)), "language": r.language, "text": r.text}
        elif name == "ja_2":
            r = run(AUDIO / "ja" / "test_ja_2.wav")
            cer = jiwer.cer(norm_ja(ja_refs["test_ja_2"]), norm_ja(r.text))
            out[name] = {"cer": cer, "language": r.language, "text": r.text}
        elif name == "en_1":
            r = run(AUDIO / "ja" / "test_en_1.wav")
            out[name] = {"wer": jiwer.wer(norm_en(ja_refs["test_en_1"]), norm_en(r.text)), "text": r.text}
        elif name == "stereo":
            sides = dict(
                line.split(":", 1)
                for line in (AUDIO / "en" / "stereo_diarization.reference.txt").read_text().splitlines()
                if ":" in line
            )
            r = run(AUDIO / "en" / "stereo_diarization.wav", language="en")
            by_ch = {ch: " ".join(s.text for s in r.segments if s.channel == ch) for ch in (0, 1)}
            out[name] = {
                "wer_left": jiwer.wer(norm_en(sides["left"]), norm_en(by_ch[0])),
                "wer_right": jiwer.wer(norm_en(sides["right"]), norm_en(by_ch[1])),
                "text": by_ch,
            }
        elif name == "call":
            silver = (AUDIO / "en" / "test_call_audio.azure_machine_transcript.txt").read_text()
            silver_text = " ".join(ln.split("] spk=? ", 1)[1] for ln in silver.splitlines() if "] spk=? " in ln)
            r = run(AUDIO / "en" / "test_call_audio.wav")
            r60 = run(AUDIO / "en" / "test_call_audio.wav", window_s=60.0)
            low = r.text.lower()
            terms = ("azure", "shopify", "microsoft", "dimitri", "office 365", "29")
            out[name] = {
                "wer_silver": jiwer.wer(norm_en(silver_text), norm_en(r.text)),
                "missing_terms": [t for t in terms if t not in low],
                "last_end": r.segments[-1].end if r.segments else 0.0,
                "window60_wer": jiwer.wer(norm_en(r.text), norm_en(r60.text)),
                "text": r.text,
            }
        elif name == "en_synth" and synth_dir is not None:
            wav = synth_dir / "en_minutes_call.stereo.wav"
            r = run(wav, language="en")
            heard = {n: n in r.text for n in EN_NAMES}
            first = {ch: next((s.text for s in r.segments if s.channel == ch), "") for ch in (0, 1)}
            out[name] = {"names_heard": heard, "first_turns": first, "text": r.text}
        if name in out:
            out[name]["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def synthesize_en(out: Path) -> Path | None:
    from insight.demo import samples
    from insight.demo.scripts import EN_SALES_CALL

    if not samples.english_available():
        return None
    call = samples.synthesize(EN_SALES_CALL, out)
    link = out / "en_minutes_call.stereo.wav"
    if call.stereo_path != link:
        link.write_bytes(call.stereo_path.read_bytes())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--combos", nargs="*", default=list(COMBOS), choices=list(COMBOS))
    parser.add_argument("--inputs", nargs="*", default=["jfk", "ja_2", "en_1", "stereo", "call", "en_synth"])
    parser.add_argument("--json", type=Path, help="write every result (with the texts) here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--synth-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.inputs, args.synth_dir), ensure_ascii=False))
        return

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        synth = synthesize_en(Path(tmp)) if "en_synth" in args.inputs else None
        for combo in args.combos:
            env = {**os.environ, **COMBOS[combo]}
            cmd = [sys.executable, __file__, "--child", combo, "--inputs", *args.inputs]
            if synth is not None:
                cmd += ["--synth-dir", str(synth)]
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                print(f"{combo}: failed\n{proc.stderr[-2000:]}", file=sys.stderr)
                continue
            results[combo] = json.loads(proc.stdout.strip().splitlines()[-1])
            print(summary_line(combo, results[combo]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1))
    print()
    for name in args.inputs:
        texts = {c: json.dumps(r[name]["text"], ensure_ascii=False) for c, r in results.items() if name in r}
        if len(set(texts.values())) > 1:
            print(f"{name}: the text differs between back ends")
            for combo, text in texts.items():
                print(f"  {combo:13s} {text[:300]}")


def summary_line(combo: str, r: dict[str, Any]) -> str:
    parts = [f"{combo:13s}"]
    if "jfk" in r:
        parts.append(f"jfk WER {r['jfk']['wer']:.3f}")
    if "ja_2" in r:
        parts.append(f"ja_2 CER {r['ja_2']['cer']:.3f}")
    if "en_1" in r:
        parts.append(f"en_1 WER {r['en_1']['wer']:.3f}")
    if "stereo" in r:
        parts.append(f"stereo WER {r['stereo']['wer_left']:.3f}/{r['stereo']['wer_right']:.3f}")
    if "call" in r:
        c = r["call"]
        parts.append(f"call WER(silver) {c['wer_silver']:.3f} missing {c['missing_terms']}")
        parts.append(f"60 s windows vs one pass WER {c['window60_wer']:.3f}")
    if "en_synth" in r:
        missed = [n for n, ok in r["en_synth"]["names_heard"].items() if not ok]
        parts.append(f"en_synth names missed {missed}")
    return " | ".join(parts)


if __name__ == "__main__":
    main()
