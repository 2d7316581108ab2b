"""Real utterances of the shared conversations (Japanese persona chat, English persuasion dialogues), embedded once
with the bundled multilingual sentence encoder."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
import pytest
from sqlalchemy import Engine

from insight.db import session_scope
from insight.nlp.embeddings import DEFAULT_EMBEDDING_MODEL, Embedder, build_embedder
from insight.repositories import embeddings as embeddings_repo
from insight.topics.vectorizer import is_substantive
from models import Speaker, Utterance
from tests.conftest import SHARED_DATA
from tests.fixtures.rows import processed_call

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
    return load_corpus(embedder)


def load_corpus(embedder: Embedder) -> Corpus:
    """700 substantive utterances of each language, in their order in the data, with their embeddings."""
    if not CONVERSATIONS.exists():
        pytest.skip(f"test data missing: {CONVERSATIONS}")
    ja = [t for t in japanese_utterances() if is_substantive(t)][:PER_LANGUAGE]
    en = [t for t in english_utterances() if is_substantive(t)][:PER_LANGUAGE]
    texts = ja + en
    return Corpus(texts, ["ja"] * len(ja) + ["en"] * len(en), embedder.encode(texts))


REDACTED_MARK = "〔済〕"


def store_calls(
    engine: Engine,
    texts: Sequence[str],
    matrix: npt.NDArray[np.float32],
    *,
    per_call: int = 20,
    owners: Sequence[int | None] = (None,),
    first: int = 0,
    model: str = DEFAULT_EMBEDDING_MODEL,
    start: datetime = datetime(2026, 9, 7, 10, tzinfo=UTC),
) -> list[int]:
    """Processed calls of ``per_call`` customer utterances each (with their vectors), a rep backchannel after each
    customer utterance; owners and recording days (one a day) in turn. Returns the call ids.

    The redacted text is the text marked with ``REDACTED_MARK``, so a test can tell which one it was shown.
    """
    call_ids: list[int] = []
    with session_scope(engine) as session:
        for n, at in enumerate(range(0, len(texts), per_call)):
            call = processed_call(first + n, f"topics-{first + n}.wav")
            call.owner_id = owners[n % len(owners)]
            call.recorded_at = start + timedelta(days=n)
            session.add(call)
            session.flush()
            assert call.id is not None
            session.add(Speaker(call_id=call.id, label="S1", role="customer"))
            session.add(Speaker(call_id=call.id, label="S2", role="rep"))
            ids: list[int] = []
            for i, text in enumerate(texts[at : at + per_call]):
                said = Utterance(
                    call_id=call.id,
                    idx=2 * i,
                    start=6.0 * i,
                    end=6.0 * i + 4,
                    speaker="S1",
                    text=text,
                    text_redacted=REDACTED_MARK + text,
                )
                nod = Utterance(
                    call_id=call.id,
                    idx=2 * i + 1,
                    start=6.0 * i + 4,
                    end=6.0 * i + 5,
                    speaker="S2",
                    text="はい",
                    text_redacted="はい",
                )
                session.add_all([said, nod])
                session.flush()
                assert said.id is not None
                ids.append(said.id)
            embeddings_repo.replace_for_call(session, call.id, model, ids, matrix[at : at + per_call])
            call_ids.append(call.id)
    return call_ids
