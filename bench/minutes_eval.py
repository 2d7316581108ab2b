"""Minutes summary quality and cost on real meetings: QMSum's validation set (35 AMI, ICSI and parliamentary
committee meetings with human-written summaries).

    python bench/minutes_eval.py [../shared/data/minutes/en/qmsum/val]

For every meeting the offline minutes writer runs on the transcript (turns → utterances, speaker names kept, roles
unknown) with the summary's length budget set to the word count of the human answer to "Summarize the whole
meeting". Compared, on the same turns and the same budget:

- LEAD: the first turns;
- LexRank: plain LexRank (cosine threshold 0.1) over the turn embeddings (the same multilingual USE encoder);
- ours, plain: the summary sentences in call order;
- ours, attributed: each summary line prefixed with its speaker ("Project Manager: ..."), as the minutes show it,
  the labels counted against the budget.

Every system's text is cut to the budget in words. Input cleaning is the same for all: QMSum's annotations
({vocalsound}, {disfmarker} ...) are removed and every turn goes through the minutes' own filler removal
(um, uh, "you know", stutters), so no system gains from it alone; a raw LEAD row shows the uncleaned baseline.

ROUGE-1/2/L F1 (``rouge-score``, Porter stemming, its default tokenisation: lower case, runs of [a-z0-9]; ROUGE-L is
the sentence-level LCS, not the summary-level ROUGE-Lsum), averaged over meetings. Topic coverage: the share of a
meeting's ``topic_list`` topics whose turn spans contain at least one turn the summary draws on. Minutes time is
the whole offline writer (parsing, every minutes field, embeddings, summary), models loaded beforehand, per hour
of transcript; transcript length is estimated from its words at 150 words per minute (QMSum has no timings).
"""

from __future__ import annotations

import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rouge_score import rouge_scorer  # noqa: E402

from insight.nlp.cues import clean_sentence  # noqa: E402
from insight.nlp.embeddings import get_embedder  # noqa: E402
from insight.nlp.minutes import MinutesOptions, MinutesUtterance, OfflineMinutesWriter  # noqa: E402
from insight.nlp.pipelines import get_nlp  # noqa: E402
from insight.nlp.summarize import lexrank  # noqa: E402
from insight.nlp.text import split_sentences  # noqa: E402

DEFAULT_DIR = ROOT.parent / "shared" / "data" / "minutes" / "en" / "qmsum" / "val"
WORDS_PER_MINUTE = 150.0
LABEL_COST = 2.0  # "Project Manager:" is two words
_ANNOTATION = re.compile(r"\{[^}]*\}")
REFERENCE_DATE = __import__("datetime").date(2000, 1, 1)  # the meetings have no dates; none are asserted


@dataclass
class Meeting:
    name: str
    speakers: list[str]
    raw: list[str]
    turns: list[str]  # cleaned
    reference: str
    topics: list[list[tuple[int, int]]]

    @property
    def words(self) -> int:
        return sum(len(t.split()) for t in self.raw)


def clean_turn(text: str) -> str:
    text = _ANNOTATION.sub(" ", text)
    sentences = [clean_sentence(text[a:b].strip(), "en") for a, b in split_sentences(text)]
    return " ".join(s for s in sentences if s)


def load(folder: Path) -> list[Meeting]:
    meetings = []
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text())
        transcript = data["meeting_transcripts"]
        topics = [
            [(int(a), int(b)) for a, b in topic.get("relevant_text_span", [])] for topic in data.get("topic_list", [])
        ]
        meetings.append(
            Meeting(
                name=path.stem,
                speakers=[t["speaker"] for t in transcript],
                raw=[_ANNOTATION.sub(" ", t["content"]) for t in transcript],
                turns=[clean_turn(t["content"]) for t in transcript],
                reference=data["general_query_list"][0]["answer"],
                topics=topics,
            )
        )
    return meetings


def cut(text: str, budget: int) -> str:
    return " ".join(text.split()[:budget])


def fill(order: list[int], turns: list[str], budget: int) -> list[int]:
    chosen, used = [], 0
    for i in order:
        if used >= budget:
            break
        if turns[i].strip():
            chosen.append(i)
            used += len(turns[i].split())
    return sorted(chosen)


def coverage(meeting: Meeting, turn_ids: set[int]) -> float:
    if not meeting.topics:
        return float("nan")
    hit = sum(1 for spans in meeting.topics if any(a <= i <= b for a, b in spans for i in turn_ids))
    return hit / len(meeting.topics)


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIR
    meetings = load(folder)
    if not meetings:
        sys.exit(f"no meetings in {folder}")
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    embedder = get_embedder()
    get_nlp("en")
    embedder.encode(["warm up"])

    systems = ["LEAD (raw turns)", "LEAD", "LexRank", "ours", "ours, attributed"]
    scores: dict[str, list[tuple[float, float, float]]] = {s: [] for s in systems}
    covered: dict[str, list[float]] = {s: [] for s in systems}
    minutes_s = 0.0
    hours = 0.0
    for m in meetings:
        budget = len(m.reference.split())
        texts: dict[str, str] = {}
        used: dict[str, set[int]] = {}

        lead_raw = fill(list(range(len(m.raw))), m.raw, budget)
        texts["LEAD (raw turns)"] = " ".join(m.raw[i] for i in lead_raw)
        used["LEAD (raw turns)"] = set(lead_raw)
        lead = fill(list(range(len(m.turns))), m.turns, budget)
        texts["LEAD"] = " ".join(m.turns[i] for i in lead)
        used["LEAD"] = set(lead)
        nonempty = [i for i, t in enumerate(m.turns) if t.strip()]
        vectors = embedder.encode([m.turns[i] for i in nonempty])
        ranks = lexrank(vectors)
        order = [nonempty[j] for j in np.argsort(-ranks, kind="stable")]
        chosen = fill(order, m.turns, budget)
        texts["LexRank"] = " ".join(m.turns[i] for i in chosen)
        used["LexRank"] = set(chosen)

        utterances = [
            MinutesUtterance(id=i, start=0.0, end=0.0, speaker=m.speakers[i], text=m.turns[i])
            for i in range(len(m.turns))
        ]
        for name, label_cost in (("ours", 0.0), ("ours, attributed", LABEL_COST)):
            writer = OfflineMinutesWriter(
                embedder, options=MinutesOptions(summary_budget=float(budget), summary_label_cost=label_cost)
            )
            started = time.perf_counter()
            doc = writer.write(utterances, lang="en", reference_date=REFERENCE_DATE)
            elapsed = time.perf_counter() - started
            if name == "ours":
                minutes_s += elapsed
                hours += m.words / WORDS_PER_MINUTE / 60.0
            if label_cost:
                texts[name] = " ".join(f"{item.speaker}: {item.text}" for item in doc.summary)
            else:
                texts[name] = " ".join(item.text for item in doc.summary)
            used[name] = {i for item in doc.summary for i in item.utterance_ids}
        for name in systems:
            s = scorer.score(m.reference, cut(texts[name], budget))
            scores[name].append((s["rouge1"].fmeasure, s["rouge2"].fmeasure, s["rougeL"].fmeasure))
            covered[name].append(coverage(m, used[name]))

    print(f"QMSum val: {len(meetings)} meetings, {sum(m.words for m in meetings):,} words, ~{hours:.1f} h")
    print(f"{'system':<20} {'ROUGE-1':>8} {'ROUGE-2':>8} {'ROUGE-L':>8} {'topics':>8}")
    for name in systems:
        r1, r2, rl = (100 * float(np.mean([s[k] for s in scores[name]])) for k in range(3))
        topics = 100 * float(np.nanmean(covered[name]))
        print(f"{name:<20} {r1:8.1f} {r2:8.2f} {rl:8.1f} {topics:7.0f}%")
    best = max(100 * float(np.mean([s[1] for s in scores[n]])) for n in ("LEAD", "LexRank"))
    for name in ("ours", "ours, attributed"):
        ours = 100 * float(np.mean([s[1] for s in scores[name]]))
        print(f"{name}: ROUGE-2 {ours / best:.2f}x the better baseline (goal >= 1.2x)")
    print(
        f"minutes time: {minutes_s:.1f} s for ~{hours:.1f} h of transcript = {minutes_s / hours:.1f} s per hour "
        "(goal < 10 s)"
    )


if __name__ == "__main__":
    main()
