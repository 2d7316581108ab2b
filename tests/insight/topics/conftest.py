"""Real utterances of the shared conversations (Japanese persona chat, English persuasion dialogues), embedded once
with the bundled multilingual sentence encoder."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pytest

from insight.nlp.embeddings import Embedder, build_embedder
from insight.topics.vectorizer import is_substantive
from tests.conftest import SHARED_DATA

CONVERSATIONS = SHARED_DATA / "conversations"
PER_LANGUAGE = 700


@dataclass(frozen=True)
class Corpus:
    texts: list[str]
    languages: list[str]
    matrix: npt.NDArray[np.float32]


def japanese_utterances() -> list[str]:
    out: list[str] = []
    for path in sorted((CONVERSATIONS / "ja" / "real_persona_chat" / "dialogues").glob("*.json")):
        out += [u["text"] for u in json.loads(path.read_text(encoding="utf-8"))["utterances"]]
    return out


def english_utterances() -> list[str]:
    with (CONVERSATIONS / "en" / "persuasionforgood" / "full_dialog.csv").open(encoding="utf-8") as f:
        return [r["Unit"].strip() for r in csv.DictReader(f)]


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return build_embedder()


@pytest.fixture(scope="session")
def corpus(embedder: Embedder) -> Corpus:
    """700 substantive utterances of each language, in their order in the data, with their embeddings."""
    if not CONVERSATIONS.exists():
        pytest.skip(f"test data missing: {CONVERSATIONS}")
    ja = [t for t in japanese_utterances() if is_substantive(t)][:PER_LANGUAGE]
    en = [t for t in english_utterances() if is_substantive(t)][:PER_LANGUAGE]
    texts = ja + en
    return Corpus(texts, ["ja"] * len(ja) + ["en"] * len(en), embedder.encode(texts))
