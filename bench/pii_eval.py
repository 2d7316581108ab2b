"""PII redaction quality on a labelled set of sales-call utterances, next to the redactor it replaced.

    .venv/bin/python bench/pii_eval.py                  # both parts, the current redactor and the baseline
    .venv/bin/python bench/pii_eval.py --split dev -v   # one part, listing every miss and false alarm
    .venv/bin/python bench/pii_eval.py --baseline-ref <commit> | --no-baseline

The set, ``bench/data/pii_eval.jsonl``, holds one utterance a line: ``id``, ``split`` (``dev`` or ``heldout``),
``lang`` (``ja`` or ``en``), ``text`` and ``spans``, each with ``kind`` (a ``PiiKind`` value), ``start``/``end``
(character offsets into ``text``) and ``text`` (the exact substring, checked on load). It mixes Japanese and English
sales-call phrasing: every kind of personal data written as Whisper would write it (digits, kanji digits, digits
spoken as words, spelled-out e-mail addresses), and about as many utterances with no personal data at all but with
products, places, companies, prices, dates, quantities and order numbers that must stay. The ``heldout`` part (about
a third) was written together with the rest and left out of every tuning run; read its figures as the honest ones.

Labelling conventions: a name without its honorific or title (田中 in 田中さん, Patel in "Mr. Patel"); a phone number
with its area code, brackets and leading ``+``; an e-mail address whole, written or spelled out; an address from the
prefecture, city or house number to the block or ZIP code, a postal code after 〒 or "zip" as its own span; a date of
birth as the date expression only (not 生年月日 or "born on"); each bank number (branch, account, sort code, routing
number, IBAN) as its own span.

Scoring is span-level. A found span matches an expected span when they overlap and have the same kind. Recall of a
kind = expected spans of that kind matched by at least one found span / expected spans of that kind; precision of a
kind = found spans of that kind matching at least one expected span / found spans of that kind. "all" pools every
kind (micro average). A found span in a PII-free utterance, or of the wrong kind, counts against precision only.

The baseline is ``insight/nlp/pii.py`` as it was at ``BASELINE_REF`` (phones, e-mails, cards, My Number, postal
codes, addresses and names; no dates of birth, bank accounts or social security numbers, no spoken digits), read with
``git show`` and loaded as a separate module, so both redactors run in one process over the same text. Both use
their language's NER pipeline (GiNZA, spaCy ``en_core_web_sm``), no allow-list and no catalog.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from insight.nlp.pii import PiiRedactor  # noqa: E402
from insight.nlp.types import Lang, PiiKind  # noqa: E402

DATA = ROOT / "bench" / "data" / "pii_eval.jsonl"
# The last commit whose redactor knew neither the contextual kinds nor spoken digits.
BASELINE_REF = "d74a4a4"
KINDS = tuple(kind.value for kind in PiiKind)


@dataclass(frozen=True)
class Span:
    kind: str
    start: int
    end: int

    def overlaps(self, other: Span) -> bool:
        return self.kind == other.kind and self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class Case:
    id: str
    split: str
    lang: Lang
    text: str
    spans: tuple[Span, ...]


@dataclass
class Scores:
    """Counts per kind; see the module docstring for what counts."""

    expected: Counter[str] = field(default_factory=Counter)
    recalled: Counter[str] = field(default_factory=Counter)
    found: Counter[str] = field(default_factory=Counter)
    correct: Counter[str] = field(default_factory=Counter)
    misses: list[tuple[Case, Span]] = field(default_factory=list)
    false_alarms: list[tuple[Case, Span]] = field(default_factory=list)

    def recall(self, kind: str | None = None) -> float | None:
        total = self.expected.total() if kind is None else self.expected[kind]
        hits = self.recalled.total() if kind is None else self.recalled[kind]
        return hits / total if total else None

    def precision(self, kind: str | None = None) -> float | None:
        total = self.found.total() if kind is None else self.found[kind]
        hits = self.correct.total() if kind is None else self.correct[kind]
        return hits / total if total else None


def load_cases(path: Path = DATA) -> list[Case]:
    """The labelled utterances; raises ``ValueError`` when a span's offsets do not hold its text."""
    cases: list[Case] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        spans = []
        for span in row["spans"]:
            if row["text"][span["start"] : span["end"]] != span["text"] or span["kind"] not in KINDS:
                raise ValueError(f"{path.name}:{number}: span {span!r} does not match its text or kind")
            spans.append(Span(span["kind"], span["start"], span["end"]))
        cases.append(Case(row["id"], row["split"], row["lang"], row["text"], tuple(spans)))
    return cases


Finder = Callable[[Sequence[str], Lang], list[list[Span]]]


def redactor_finder(redactor_class: type[Any]) -> Finder:
    """Runs ``redactor_class`` (the current ``PiiRedactor`` or the baseline's) over texts of one language."""
    redactors: dict[Lang, Any] = {}

    def find(texts: Sequence[str], lang: Lang) -> list[list[Span]]:
        redactor = redactors.setdefault(lang, redactor_class(lang))
        return [
            [Span(str(s.kind.value), s.start, s.end) for s in redaction.spans]
            for redaction in redactor.redact_many(list(texts))
        ]

    return find


def score(cases: Iterable[Case], find: Finder) -> Scores:
    """Run ``find`` over ``cases`` (batched per language) and count matches as the module docstring defines."""
    scores = Scores()
    by_lang: dict[str, list[Case]] = {}
    for case in cases:
        by_lang.setdefault(case.lang, []).append(case)
    for lang, group in by_lang.items():
        for case, found in zip(group, find([c.text for c in group], lang), strict=True):  # type: ignore[arg-type]
            for expected in case.spans:
                scores.expected[expected.kind] += 1
                if any(expected.overlaps(span) for span in found):
                    scores.recalled[expected.kind] += 1
                else:
                    scores.misses.append((case, expected))
            for span in found:
                scores.found[span.kind] += 1
                if any(span.overlaps(expected) for expected in case.spans):
                    scores.correct[span.kind] += 1
                else:
                    scores.false_alarms.append((case, span))
    return scores


def load_baseline(ref: str) -> ModuleType:
    """``insight/nlp/pii.py`` at ``ref``, loaded from git as the module ``insight_pii_baseline``.

    Raises:
        RuntimeError: git is missing, or ``ref`` is not in this checkout's history.
    """
    try:
        source = subprocess.run(
            ["git", "show", f"{ref}:insight/nlp/pii.py"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
    except FileNotFoundError as exc:
        raise RuntimeError("git is not installed") from exc
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(f"git show {ref}:insight/nlp/pii.py failed: {exc.stderr.strip()}") from exc
    spec = importlib.util.spec_from_loader("insight_pii_baseline", loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the class body runs.
    sys.modules[spec.name] = module
    exec(compile(source, f"{ref}:insight/nlp/pii.py", "exec"), module.__dict__)
    return module


def _fmt(value: float | None) -> str:
    return "   -" if value is None else f"{value:.2f}"


def print_table(title: str, current: Scores, baseline: Scores | None) -> None:
    print(f"\n{title}")
    head = f"{'kind':<14} {'n':>4}   {'recall':>6} {'prec.':>6}"
    print(head + (f"   {'baseline recall':>15} {'prec.':>6}" if baseline else ""))
    for kind in (*KINDS, None):
        label = kind or "all"
        line = f"{label:<14} {current.expected[kind] if kind else current.expected.total():>4}"
        line += f"   {_fmt(current.recall(kind)):>6} {_fmt(current.precision(kind)):>6}"
        if baseline:
            line += f"   {_fmt(baseline.recall(kind)):>15} {_fmt(baseline.precision(kind)):>6}"
        print(line)


def print_errors(scores: Scores) -> None:
    for case, span in scores.misses:
        print(f"  miss   {case.id} {span.kind:<13} {case.text[span.start : span.end]!r}  in  {case.text}")
    for case, span in scores.false_alarms:
        print(f"  extra  {case.id} {span.kind:<13} {case.text[span.start : span.end]!r}  in  {case.text}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--split", choices=("dev", "heldout", "all"), default="all")
    parser.add_argument("--baseline-ref", default=BASELINE_REF, help="git revision of the baseline redactor")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("-v", "--verbose", action="store_true", help="list misses and false alarms")
    args = parser.parse_args(argv)

    cases = load_cases(args.data)
    splits = ("dev", "heldout") if args.split == "all" else (args.split,)
    baseline_find: Finder | None = None
    if not args.no_baseline:
        try:
            baseline_find = redactor_finder(load_baseline(args.baseline_ref).PiiRedactor)
        except RuntimeError as exc:
            print(f"baseline not shown ({exc}); run inside a git checkout that has {args.baseline_ref}")
    current_find = redactor_finder(PiiRedactor)

    chosen = [case for case in cases if case.split in splits]
    pii_free = sum(1 for case in chosen if not case.spans)
    print(f"{len(chosen)} utterances ({', '.join(splits)}), {pii_free} without personal data")
    for split in (*splits, "all") if len(splits) > 1 else splits:
        part = [case for case in chosen if split == "all" or case.split == split]
        started = time.perf_counter()
        current = score(part, current_find)
        elapsed = time.perf_counter() - started
        baseline = score(part, baseline_find) if baseline_find else None
        print_table(f"{split}: {len(part)} utterances, {elapsed / len(part) * 1000:.1f} ms each", current, baseline)
        if args.verbose and split != "all":
            print_errors(current)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
