"""Pipeline loading, caching, chunking of long input (SudachiPy's 49,149-byte limit), language codes."""

from __future__ import annotations

import time

import pytest
from spacy.language import Language

from insight.errors import InsightError
from insight.nlp.pipelines import NER_ONLY_DISABLE, get_nlp, normalize_lang, parse, parse_many
from insight.nlp.text import SUDACHI_MAX_BYTES, chunk_by_bytes, fold_width, parse_number


def test_pipelines_are_cached(nlp_ja: Language, nlp_en: Language) -> None:
    started = time.perf_counter()
    assert get_nlp("ja") is nlp_ja
    assert get_nlp("en") is nlp_en
    assert time.perf_counter() - started < 0.1


def test_our_rules_run_after_ner(nlp_ja: Language, nlp_en: Language) -> None:
    for nlp in (nlp_ja, nlp_en):
        names = nlp.pipe_names
        assert names.index("ner") < next(i for i, name in enumerate(names) if name.startswith("insight_entity_rules"))


def test_input_over_sudachi_limit_goes_through_the_japanese_pipeline(nlp_ja: Language) -> None:
    sentence = "本日はお時間をいただきありがとうございます。"
    text = sentence * (SUDACHI_MAX_BYTES // len(sentence.encode()) + 20) + "最後に田中さんへ連絡します。"
    assert len(text.encode()) > SUDACHI_MAX_BYTES
    doc = parse(text, "ja", disable=NER_ONLY_DISABLE["ja"])
    assert doc.text == text
    people = [ent for ent in doc.ents if ent.label_ == "Person"]
    assert [text[ent.start_char : ent.end_char] for ent in people] == ["田中"]
    assert people[0].start_char == text.index("田中")


def test_an_unbroken_line_is_cut_anywhere_and_rejoined(nlp_ja: Language) -> None:
    text = "田中さんと話した" * 60 + "、" + "鈴木さんにも連絡した" * 60  # no sentence end anywhere
    [doc] = parse_many([text], "ja", disable=NER_ONLY_DISABLE["ja"], max_chunk_bytes=500)
    assert doc.text == text
    assert len(list(chunk_by_bytes(text, 500))) > 5


def test_parse_many_keeps_order_and_empty_texts(nlp_en: Language) -> None:
    docs = parse_many(["Hello.", "", "John Smith called."], "en")
    assert [doc.text for doc in docs] == ["Hello.", "", "John Smith called."]
    assert [ent.text for ent in docs[2].ents] == ["John Smith"]


@pytest.mark.parametrize("max_bytes", [4, 7, 64, 1000])
def test_chunks_tile_the_text_within_the_byte_budget(max_bytes: int) -> None:
    text = "今日は晴れ。 Yes, sure! 長い長い文章が続きます、そしてまだ続く。\n\n最後" * 7
    chunks = list(chunk_by_bytes(text, max_bytes))
    assert "".join(chunk for _, chunk in chunks) == text
    assert all(len(chunk.encode()) <= max_bytes for _, chunk in chunks)
    assert all(text[offset : offset + len(chunk)] == chunk for offset, chunk in chunks)


def test_chunks_end_at_sentence_ends_when_they_can() -> None:
    text = "一文目です。二文目です。三文目です。"
    assert [chunk for _, chunk in chunk_by_bytes(text, 40)] == ["一文目です。二文目です。", "三文目です。"]


def test_width_folding_keeps_length() -> None:
    assert fold_width("ＴＥＬ：０３－１２３４") == "TEL:03-1234"
    assert len(fold_width("ｶﾀｶﾅ　ＡＢＣ")) == len("ｶﾀｶﾅ　ＡＢＣ")


@pytest.mark.parametrize(
    ("token", "value"), [("12", 12), ("１２", 12), ("三", 3), ("十五", 15), ("二十", 20), ("百", 100)]
)
def test_parse_number(token: str, value: int) -> None:
    assert parse_number(token) == value


@pytest.mark.parametrize(("code", "lang"), [("ja", "ja"), ("ja-JP", "ja"), ("japanese", "ja"), ("en_US", "en")])
def test_language_codes(code: str, lang: str) -> None:
    assert normalize_lang(code) == lang


def test_unsupported_language_is_a_clear_error() -> None:
    with pytest.raises(InsightError) as raised:
        normalize_lang("fr")
    assert raised.value.code == "unsupported_language"
