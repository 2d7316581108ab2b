"""Public dialogue corpora with outcomes, read as decided deals for win patterns (evaluation and tests).

* PersuasionForGood (English): ``full_dialog.csv`` holds the utterances (``B4`` role: 0 persuader, 1 persuadee;
  ``B2`` dialogue id); ``full_info.csv`` the participants (``B6`` the persuadee's donation). A dialogue is won when
  the persuadee donated more than zero. The task capped donations at $2: larger values are impossible and those
  dialogues are dropped (the outcome of a mistyped amount is unknown). Segments come from the persuadee's
  demographics: age band or income band.
* RealPersonaChat (Japanese): ``dialogues/NNNNN.json``, two interlocutors rating the chat. Each (dialogue,
  interlocutor) is a row: that interlocutor is the "customer", their utterances are the features, and the row is
  won when their satisfaction is 4 or more. Segments: the interlocutor's age band or gender
  (``interlocutors.json``).

The rows carry no real call: utterance ids are the corpus's, call ids are None.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from insight.patterns.features import DealFacts, Quote

DONATION_CAP = 2.0


@dataclass(frozen=True)
class Corpus:
    """Decided rows of a corpus, with what was dropped and why."""

    name: str
    language: str
    deals: list[DealFacts]
    dropped: dict[str, int]


def _age_band(age: float | None) -> str:
    if age is None:
        return "unknown"
    if age < 30:
        return "18-29"
    if age < 40:
        return "30-39"
    if age < 50:
        return "40-49"
    return "50+"


def _income_band(code: float | None) -> str:
    # full_info.csv codes household income in 12 ordered brackets; three bands of about equal size.
    if code is None:
        return "unknown"
    if code <= 3:
        return "low"
    if code <= 6:
        return "middle"
    return "high"


def _float(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def persuasion_for_good(root: Path, *, segmentation: str = "age") -> Corpus:
    """The PersuasionForGood dialogues as deals (won = the persuadee donated), segmented by ``age`` or ``income``.

    Raises:
        ValueError: For an unknown segmentation.
    """
    if segmentation not in {"age", "income"}:
        raise ValueError(f"segmentation must be age or income, not {segmentation!r}")
    utterances: dict[str, list[Quote]] = defaultdict(list)
    with (root / "full_dialog.csv").open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["B4"] == "1":
                dialogue = row["B2"]
                turn = _float(row["Turn"]) or 0.0
                utterances[dialogue].append(Quote(None, int(row[""]), turn, row["Unit"].strip()))
    deals: list[DealFacts] = []
    dropped = {"over_cap": 0, "no_donation_value": 0, "no_utterances": 0}
    with (root / "full_info.csv").open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["B4"] != "1":
                continue
            donation = _float(row["B6"])
            if donation is None:
                dropped["no_donation_value"] += 1
                continue
            if donation > DONATION_CAP:
                dropped["over_cap"] += 1
                continue
            said = utterances.get(row["B2"])
            if not said:
                dropped["no_utterances"] += 1
                continue
            segment = (
                _age_band(_float(row["age.x"])) if segmentation == "age" else _income_band(_float(row["income.x"]))
            )
            deals.append(DealFacts(deal_id=row["B2"], won=donation > 0, segment=segment, customer_utterances=said))
    return Corpus("persuasionforgood", "en", deals, dropped)


def real_persona_chat(root: Path, *, segmentation: str = "age", won_from: int = 4) -> Corpus:
    """The RealPersonaChat dialogues as one row per (dialogue, interlocutor): won = satisfaction >= ``won_from``.

    Raises:
        ValueError: For an unknown segmentation.
    """
    if segmentation not in {"age", "gender"}:
        raise ValueError(f"segmentation must be age or gender, not {segmentation!r}")
    people = json.loads((root / "interlocutors.json").read_text(encoding="utf-8"))
    deals: list[DealFacts] = []
    dropped = {"no_evaluation": 0, "no_utterances": 0}
    for path in sorted((root / "dialogues").glob("*.json")):
        dialogue = json.loads(path.read_text(encoding="utf-8"))
        ratings = {e["interlocutor_id"]: e.get("satisfaction") for e in dialogue.get("evaluations", [])}
        for person in dialogue["interlocutors"]:
            rating = ratings.get(person)
            if not isinstance(rating, int):
                dropped["no_evaluation"] += 1
                continue
            said = [
                Quote(None, int(u["utterance_id"]), float(i), str(u["text"]))
                for i, u in enumerate(dialogue["utterances"])
                if u["interlocutor_id"] == person
            ]
            if not said:
                dropped["no_utterances"] += 1
                continue
            info = people.get(person, {}).get("demographic_information", {})
            segment = str(info.get("age" if segmentation == "age" else "gender") or "unknown")
            deals.append(
                DealFacts(
                    deal_id=f"{dialogue['dialogue_id']}:{person}",
                    won=rating >= won_from,
                    segment=segment,
                    customer_utterances=said,
                )
            )
    return Corpus("real_persona_chat", "ja", deals, dropped)
