"""Topic refit time and peak memory at 10k, 50k and 100k utterances, both reducers, and one new call's assignment.

    .venv/bin/python bench/topics.py                          # 10k, 50k, 100k; pca_kmeans and umap_hdbscan
    .venv/bin/python bench/topics.py --sizes 10000 --methods pca_kmeans pca_hdbscan

Embeddings are made once from the real conversations in ../shared/data/conversations (Japanese persona chat and
English persuasion dialogues, backchannels left out) with the bundled multilingual USE and cached under
.insight/bench/topics/ (a few minutes the first time). A corpus of n utterances tiles them with a small Gaussian
perturbation (each copy a distinct vector near a real one, texts repeated), written to a file read batch by batch.

Each measurement runs in a fresh process limited to two cores and reports:
  refit   a fit on the bounded sample (``TopicOptions.sample_size``), started from a first fit's topics, the
          matching of its topics to them, and the assignment of every utterance in batches read from the file
  peak    the process's peak resident memory (ru_maxrss) over the whole refit
  call    assigning one new call's 80 utterances to the topics (median of 20)
Goal: 100k refit <= 300 s on 2 cores, a new call <= 1 s, peak memory flat past the sample size.
"""

from __future__ import annotations

import argparse
import csv
import glob
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONVERSATIONS = ROOT.parent / "shared" / "data" / "conversations"
CACHE = ROOT / ".insight" / "bench" / "topics"
BASE_PER_LANGUAGE = 3_000
NOISE = 0.03


def real_utterances() -> list[str]:
    """Substantive utterances of the real conversations: up to BASE_PER_LANGUAGE Japanese, as many English."""
    from insight.topics.vectorizer import is_substantive

    ja: list[str] = []
    for path in sorted(glob.glob(str(CONVERSATIONS / "ja" / "real_persona_chat" / "dialogues" / "*.json"))):
        with open(path, encoding="utf-8") as f:
            ja += [u["text"] for u in json.load(f)["utterances"] if is_substantive(u["text"])]
    with open(CONVERSATIONS / "en" / "persuasionforgood" / "full_dialog.csv", encoding="utf-8") as f:
        en = [r["Unit"].strip() for r in csv.DictReader(f) if is_substantive(r["Unit"])]
    return ja[:BASE_PER_LANGUAGE] + en[:BASE_PER_LANGUAGE]


def base_corpus() -> tuple[list[str], object]:
    """The real utterances and their embeddings (computed once, then read from the cache)."""
    import numpy as np

    texts_path, matrix_path = CACHE / "texts.json", CACHE / "embeddings.npy"
    if not matrix_path.exists():
        from insight.nlp.embeddings import build_embedder

        CACHE.mkdir(parents=True, exist_ok=True)
        texts = real_utterances()
        print(f"embedding {len(texts)} real utterances once (cached in {CACHE}) ...", flush=True)
        embedder = build_embedder()
        matrix = np.vstack([embedder.encode(texts[i : i + 256]) for i in range(0, len(texts), 256)])
        np.save(matrix_path, matrix)
        texts_path.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    return json.loads(texts_path.read_text(encoding="utf-8")), np.load(matrix_path)


def corpus_file(n: int) -> Path:
    """A memory-mappable (n, 512) float32 file of perturbed copies of the real embeddings (made once)."""
    import numpy as np

    from insight.nlp.embeddings import normalize_rows

    path = CACHE / f"tiled_{n}.npy"
    if path.exists():
        return path
    _, base = base_corpus()
    base = np.asarray(base)
    rng = np.random.default_rng(n)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, base.shape[1]))
    for start in range(0, n, 10_000):
        idx = np.arange(start, min(n, start + 10_000)) % len(base)
        noisy = base[idx] + rng.normal(0.0, NOISE, size=(len(idx), base.shape[1])).astype(np.float32)
        out[start : start + len(idx)] = normalize_rows(noisy)
    out.flush()
    del out
    return path


class Rows:
    """Rows of a ``.npy`` matrix read from the file on demand: nothing stays mapped, so the process's resident
    memory shows what the refit holds, not the pages of the corpus file it streamed through.
    """

    def __init__(self, path: Path) -> None:
        import numpy as np

        self.path = path
        with path.open("rb") as f:
            np.lib.format.read_magic(f)
            self.shape, _, self.dtype = np.lib.format.read_array_header_1_0(f)
            self.offset = f.tell()
        self.row_bytes = self.shape[1] * np.dtype(self.dtype).itemsize

    def __len__(self) -> int:
        return int(self.shape[0])

    def slice(self, start: int, stop: int) -> object:
        import numpy as np

        stop = min(stop, len(self))
        with self.path.open("rb") as f:
            f.seek(self.offset + start * self.row_bytes)
            data = f.read((stop - start) * self.row_bytes)
        return np.frombuffer(data, dtype=self.dtype).reshape(stop - start, self.shape[1]).copy()

    def take(self, idx: object, sweep: int = 10_000) -> object:
        """Rows ``idx`` (ascending), read in sweeps of ``sweep`` rows."""
        import numpy as np

        idx = np.asarray(idx)
        out = np.empty((len(idx), self.shape[1]), dtype=self.dtype)
        for start in range(0, len(self), sweep):
            mask = (idx >= start) & (idx < start + sweep)
            if mask.any():
                out[mask] = self.slice(start, start + sweep)[idx[mask] - start]
        return out


def measure(n: int, method: str) -> dict[str, float]:
    """One refit at size ``n`` with ``method`` (run in its own process)."""
    import numpy as np

    from insight.topics import engine
    from insight.topics.matching import KnownTopic, match_topics
    from insight.topics.types import Method, TopicOptions
    from insight.topics.vectorizer import is_substantive

    texts, _ = base_corpus()
    matrix = Rows(corpus_file(n))
    options = TopicOptions(method=Method(method))
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def fit(seed_topics: list[KnownTopic] | None, seed: int) -> engine.FitResult:
        idx = engine.sample_indexes(n, options.sample_size, seed)
        docs = [texts[i % len(texts)] for i in idx]
        previous = np.vstack([t.centroid for t in seed_topics]) if seed_topics else None
        return engine.fit_topics(docs, matrix.take(idx), options, previous_centroids=previous)

    first = fit(None, 1)
    known = [KnownTopic(i, t.centroid, [w for w, _ in t.keywords]) for i, t in enumerate(first.topics)]
    started = time.perf_counter()
    result = fit(known, 2)
    fit_s = time.perf_counter() - started
    match = match_topics(known, result.topics, options.match_similarity)
    centroids = np.vstack([t.centroid for t in result.topics])
    assigned = outliers = 0
    for start in range(0, n, options.batch_size):
        batch = engine.assign(matrix.slice(start, start + options.batch_size), centroids, result.threshold)
        assigned += len(batch.positions)
        outliers += int(np.sum(batch.positions < 0))
    refit_s = time.perf_counter() - started

    call = [texts[(i * 37) % len(texts)] for i in range(80)]
    call_matrix = matrix.slice(0, 80)
    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        keep = [i for i, text in enumerate(call) if is_substantive(text)]
        engine.assign(call_matrix[keep], centroids, result.threshold)
        times.append(time.perf_counter() - t0)
    return {
        "fit_s": fit_s,
        "refit_s": refit_s,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "base_mb": base_rss,
        "topics": len(result.topics),
        "kept": len(match.kept) / max(1, len(known)),
        "outliers": outliers / max(1, assigned),
        "call_ms": 1000 * sorted(times)[len(times) // 2],
    }


def run_child(n: int, method: str) -> dict[str, float]:
    env = os.environ | {"OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2", "NUMBA_NUM_THREADS": "2"}
    cmd = [sys.executable, __file__, "--child", str(n), method]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{method} at {n} failed:\n{out.stderr[-3000:]}")
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 100_000])
    parser.add_argument("--methods", nargs="+", default=["pca_kmeans", "umap_hdbscan"])
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if hasattr(os, "sched_setaffinity"):
            cores = sorted(os.sched_getaffinity(0))[:2]
            os.sched_setaffinity(0, cores)
        print(json.dumps(measure(int(args.child[0]), args.child[1])))
        return
    base_corpus()
    for n in args.sizes:
        corpus_file(n)
    rows = {(n, m): run_child(n, m) for n in args.sizes for m in args.methods}
    head = f"{'utterances':>10}"
    for m in args.methods:
        head += (
            f" | {m + ' refit s':>20} {'fit s':>6} {'peak MB':>8} {'topics':>6} {'kept':>5} {'out':>5} {'call ms':>7}"
        )
    print(head)
    for n in args.sizes:
        line = f"{n:>10}"
        for m in args.methods:
            r = rows[(n, m)]
            line += (
                f" | {r['refit_s']:>20.1f} {r['fit_s']:>6.1f} {r['peak_mb']:>8.0f} {r['topics']:>6.0f}"
                f" {r['kept']:>5.0%} {r['outliers']:>5.0%} {r['call_ms']:>7.2f}"
            )
        print(line)
    print("goal: 100k refit <= 300 s on 2 cores, a new call <= 1000 ms, peak memory flat past the sample size (20k)")


if __name__ == "__main__":
    main()
