"""bench/minutes_eval.py's own parts: the set's name, the baselines' candidate filter, the tune/held split and the
bootstrap interval (the benchmark itself runs for minutes; these run in a second)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from spacy.language import Language

from insight.nlp.minutes.summarize import SummaryOptions
from tests.fixtures.bench import load_bench


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_bench("minutes_eval")


def test_the_set_is_named_after_its_folder(bench: ModuleType, tmp_path: Path) -> None:
    assert bench.set_name(tmp_path / "minutes" / "en" / "qmsum" / "val") == "QMSum val"
    assert bench.set_name(tmp_path / "qmsum" / "test") == "QMSum test"
    assert bench.set_name(tmp_path / "ami" / "train") == "ami train"


def test_lexrank_gets_the_summary_s_candidate_filter(bench: ModuleType, nlp_en: Language) -> None:
    turns = [
        "Yeah.",
        "Mm-hmm, okay.",
        "Hi everyone, thanks for coming, nice to see you all.",
        "Okay, yeah, right, sure, I see, okay, that makes sense.",
        "The remote control should have a rubber case so that it survives being dropped.",
        "Right, the budget for the whole remote is twelve and a half euros per unit.",
    ]
    assert bench.candidate_turns(turns, SummaryOptions()) == {
        4: "The remote control should have a rubber case so that it survives being dropped.",
        5: "The budget for the whole remote is twelve and a half euros per unit.",
    }


def test_tune_and_held_parts_keep_each_meeting_series_whole(bench: ModuleType) -> None:
    names = ["Bed002", "Bed010", "Bmr005", "ES2006a", "ES2006b", "ES2009a", "covid_2", "covid_6", "education_0"]
    meetings = [bench.Meeting(name=n, speakers=[], raw=[], turns=[], reference="", topics=[]) for n in names]
    tune, held = bench.split(meetings)
    assert sorted(tune + held) == list(range(len(names)))
    series_of = {i: meetings[i].series for i in range(len(names))}
    assert {series_of[i] for i in tune}.isdisjoint({series_of[i] for i in held})
    assert {series_of[i] for i in tune} == {"Bed", "ES2006", "covid"}
    assert {series_of[i] for i in held} == {"Bmr", "ES2009", "education"}


def test_bootstrap_interval_spans_the_meetings_spread(bench: ModuleType) -> None:
    rng = np.random.default_rng(0)
    same = bench.bootstrap(np.full((20, 2), 0.05), rng)
    assert bench.interval(same[:, 0]) == pytest.approx((0.05, 0.05))
    spread = bench.bootstrap(np.array([[0.0], [0.1]] * 10), rng)
    low, high = bench.interval(spread[:, 0])
    assert 0.02 < low < 0.05 < high < 0.08
