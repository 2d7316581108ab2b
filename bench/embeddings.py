"""Sentence-embedding throughput of the two backends on real utterances, as the analyze stage runs them.

Utterances are real lines of ../shared/data/conversations (Japanese chats and English dialogues, half each),
embedded 64 at a time (the analyze stage's batch) after one warm-up batch. The process is pinned to ``--cores`` CPU
cores (default 2, the laptop target) and both backends get that many threads: USE through its BLAS thread count,
sentence-transformers through ``torch.set_num_threads``. Figures are wall-clock on a machine that may be busy: compare
the rows of one run.

    python bench/embeddings.py                      # both backends, 512 utterances per language
    python bench/embeddings.py --n 256 --models all-MiniLM-L6-v2
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from insight.nlp.embeddings import Embedder

ROOT = Path(__file__).resolve().parents[1]
CONVERSATIONS = ROOT.parent / "shared" / "data" / "conversations"
# Utterances per second (Japanese, English) on the 2-core development machine at a load average near 2 (sentence-
# transformers 5.7, transformers 4.57, torch 2.13 CPU): the baseline the figures are printed beside. With other work
# keeping the load average near 6 the same run gave about a tenth (USE 181/98, MiniLM 27/14).
BASELINE = {"use-multilingual-v3": (1660.0, 1030.0), "all-MiniLM-L6-v2": (140.0, 63.0)}


def utterances(n: int) -> tuple[list[str], list[str]]:
    """``n`` real Japanese utterances and ``n`` English ones."""
    ja: list[str] = []
    for path in sorted((CONVERSATIONS / "ja" / "real_persona_chat" / "dialogues").glob("*.json")):
        ja.extend(u["text"] for u in json.loads(path.read_text(encoding="utf-8")).get("utterances", []))
        if len(ja) >= n:
            break
    en: list[str] = []
    with (CONVERSATIONS / "en" / "persuasionforgood" / "full_dialog.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            en.append(row["Unit"])
            if len(en) >= n:
                break
    if min(len(ja), len(en)) < n:
        raise SystemExit(f"only {len(ja)} Japanese and {len(en)} English utterances in {CONVERSATIONS}")
    return ja[:n], en[:n]


def rate(embedder: Embedder, texts: list[str], batch: int) -> tuple[float, int]:
    """Utterances per second over ``texts`` embedded ``batch`` at a time, and the vectors' dimension."""
    embedder.encode(texts[:batch])  # warm-up
    start = time.perf_counter()
    dim = 0
    for i in range(0, len(texts), batch):
        dim = embedder.encode(texts[i : i + batch]).shape[1]
    return len(texts) / (time.perf_counter() - start), dim


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=512, help="utterances per language")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--models", nargs="+", default=list(BASELINE))
    args = parser.parse_args()

    cores = sorted(os.sched_getaffinity(0))[: args.cores]
    os.sched_setaffinity(0, cores)
    import torch

    torch.set_num_threads(args.cores)
    from insight.nlp.embeddings import build_embedder

    ja, en = utterances(args.n)
    print(f"{args.n} Japanese and {args.n} English utterances, batch {args.batch}, cores {cores}")
    print(f"load average {os.getloadavg()[0]:.1f} (figures drop when other work shares the cores)")
    print(f"{'model':<24} {'dim':>4} {'ja utt/s':>9} {'en utt/s':>9} {'baseline ja/en':>15}")
    for model in args.models:
        embedder = build_embedder(model, threads=args.cores)
        ja_rate, dim = rate(embedder, ja, args.batch)
        en_rate, _ = rate(embedder, en, args.batch)
        base = BASELINE.get(model, (0.0, 0.0))
        print(f"{model:<24} {dim:>4} {ja_rate:>9.1f} {en_rate:>9.1f} {base[0]:>7.1f}/{base[1]:<7.1f}")


if __name__ == "__main__":
    main()
