"""The offline minutes writer on hand-written transcripts: each field, owners and due dates, evidence, bad input."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from insight.nlp.embeddings import Embedder
from insight.nlp.minutes.cues import find_money
from insight.nlp.minutes.redaction import redact_call
from insight.nlp.minutes.render import render_markdown
from insight.nlp.minutes.schemas import MinutesDoc
from insight.nlp.minutes.summarize import SummaryUnit, lead, lexrank_summary, summarize
from insight.nlp.minutes.writer import OfflineMinutesWriter
from insight.nlp.pii import PiiRedactor
from insight.nlp.types import EntityCatalog
from tests.insight.nlp.conftest import REFERENCE, call

CATALOG = EntityCatalog.from_lists(competitors=["Salesforce", "サイボウズ|Cybozu"], products=["Insight Pro"])


EN_CALL = call(
    ("rep", "Hi Priya, this is Sam from CallSpring. Thanks for taking the time today."),
    ("customer", "Hi Sam. We use Sales Force today, and our reps never update it, so the forecast is guesswork."),
    ("rep", "That is common. CallSpring writes the notes for them automatically."),
    ("customer", "How much does it cost?"),
    ("rep", "It is seventy five dollars per seat per month."),
    ("customer", "Honestly, that is more than we hoped. Our budget is three thousand dollars a month."),
    ("customer", "Our CFO, Dana Whitfield, has the final say on this."),
    ("customer", "We want to go live in March."),
    ("rep", "Could we set up a demo with Dana next Tuesday?"),
    ("customer", "Yes, next Tuesday works."),
    ("rep", "Great. I will send you the updated quote by Friday."),
    ("customer", "And Dana will review the security documents by the end of the month."),
)

JA_CALL = call(
    ("rep", "お世話になっております。株式会社クラウドリンクの佐藤です。"),
    ("customer", "東西物産、営業企画部の山田です。よろしくお願いします。"),
    ("customer", "今はサイボウズを使っていますが、入力の手間が多くて現場が記録を残してくれないんです。"),
    ("customer", "料金はどのくらいになりますか？"),
    ("rep", "五十名様でのご利用ですと、月額三十万円になります。"),
    ("customer", "正直、少し高いですね。予算は年間で四百万円までなんです。"),
    ("customer", "導入は来年の四月を予定しています。最終的な判断は営業部長の鈴木がします。"),
    ("customer", "では、まずは二週間の無料トライアルから始めることにしましょう。"),
    ("rep", "ありがとうございます。来週の金曜日までに"),
    ("rep", "お見積もりをお送りします。"),
    ("customer", "私のほうで、月末までに社内の承認を取っておきます。"),
)


def test_english_minutes_hold_the_facts_with_evidence(writer: OfflineMinutesWriter) -> None:
    doc = writer.write(EN_CALL, lang="en", reference_date=REFERENCE, catalog=CATALOG)  # Wednesday 2026-11-25
    assert doc.status == "ok"
    assert [(p.speaker, p.role, p.name, p.organization) for p in doc.participants] == [
        ("S1", "rep", "Sam", "CallSpring"),
        ("S2", "customer", "Priya", None),
    ]
    actions = [(a.owner.role, a.owner.name, a.due, a.utterance_ids) for a in doc.next_actions]
    assert actions == [
        ("rep", "Sam", date(2026, 12, 1), [109, 110]),  # the accepted demo proposal
        ("rep", "Sam", date(2026, 11, 27), [111]),
        ("customer", "Dana", date(2026, 11, 30), [112]),  # a named person, not the speaker
    ]
    assert [(d.text, d.utterance_ids) for d in doc.decisions] == [
        ("Could we set up a demo with Dana next Tuesday? → Yes, next Tuesday works.", [109, 110])
    ]
    money = {(m.amount, m.currency, m.period, m.per, m.refers_to, tuple(m.utterance_ids)) for m in doc.budget}
    assert money == {(75.0, "USD", "month", "seat", "price", (105,)), (3000.0, "USD", "month", None, "budget", (106,))}
    assert [(t.expression, t.date_from, t.date_to) for t in doc.timeline] == [
        ("March", date(2027, 3, 1), date(2027, 3, 31))
    ]
    assert [(d.title, d.name, d.utterance_ids) for d in doc.decision_makers] == [("CFO", "Dana Whitfield", [107])]
    assert [(c.name, c.mentions, c.utterance_ids) for c in doc.competitors] == [("Salesforce", 1, [102])]
    assert [q.utterance_ids for q in doc.questions] == [[104]]
    assert any(o.utterance_ids == [106] for o in doc.objections)
    assert any(n.utterance_ids == [102] for n in doc.needs)
    # Every item cites utterances of the call, with their start times.
    starts = {u.id: u.start for u in EN_CALL}
    for name in ("summary", "needs", "objections", "questions", "decisions", "next_actions", "budget", "timeline"):
        for item in getattr(doc, name):
            assert item.start == starts[item.utterance_ids[0]]
            assert 0.0 < item.confidence <= 1.0
    assert doc.sentiment is not None
    assert {u.utterance_id for u in doc.sentiment.utterances} <= {u.id for u in EN_CALL if u.role == "customer"}


def test_japanese_minutes_hold_the_facts_with_evidence(writer: OfflineMinutesWriter) -> None:
    doc = writer.write(JA_CALL, lang="ja", reference_date=REFERENCE, catalog=CATALOG)
    assert doc.status == "ok"
    assert [(p.name, p.organization) for p in doc.participants] == [
        ("佐藤", "株式会社クラウドリンク"),
        ("山田", "東西物産"),
    ]
    # A sentence Whisper split over two utterances of one speaker is one next action citing both.
    actions = [(a.owner.role, a.owner.name, a.due, a.due_text, a.utterance_ids) for a in doc.next_actions]
    assert actions == [
        ("rep", "佐藤", date(2026, 12, 4), "来週の金曜日", [109, 110]),
        ("customer", "山田", date(2026, 11, 30), "月末", [111]),
    ]
    money = {(m.amount, m.period, m.refers_to, tuple(m.utterance_ids)) for m in doc.budget}
    assert money == {(300_000.0, "month", "price", (105,)), (4_000_000.0, "year", "budget", (106,))}
    assert [(t.expression, t.date_from, t.date_to) for t in doc.timeline] == [
        ("来年の四月", date(2027, 4, 1), date(2027, 4, 30))
    ]
    assert [(d.title, d.name) for d in doc.decision_makers] == [("営業部長", "鈴木")]
    assert [c.name for c in doc.competitors] == ["サイボウズ"]
    assert [d.utterance_ids for d in doc.decisions] == [[108]]
    assert [q.utterance_ids for q in doc.questions] == [[104]]
    assert any(o.utterance_ids == [106] and "高い" in o.text for o in doc.objections)
    markdown = render_markdown(doc, link=lambda uid: f"#u{uid}")
    assert "## ネクストアクション" in markdown
    assert "期限: 2026-12-04 (来週の金曜日)" in markdown
    assert "[0:40](#u109)" in markdown


def test_competitor_found_without_a_catalog(writer: OfflineMinutesWriter) -> None:
    doc = writer.write(JA_CALL, lang="ja", reference_date=REFERENCE)
    assert [c.name for c in doc.competitors] == ["サイボウズ"]
    compared = call(("rep", "So you are comparing Shopify versus Azure for the new store?"), ("customer", "Yes."))
    doc = writer.write(compared, lang="en", reference_date=REFERENCE)
    assert {p.name for p in doc.products} == {"Shopify", "Azure"}


def test_a_catalog_alias_heard_in_context_is_the_catalog_entry(writer: OfflineMinutesWriter) -> None:
    """Whisper may write サイボーズ for サイボウズ: with that spelling as an alias, the minutes list one competitor."""
    catalog = EntityCatalog.from_lists(competitors=["サイボウズ|サイボーズ|Cybozu"], products=[])
    heard = call(
        ("rep", "現在はどのようなツールをお使いですか。"),
        ("customer", "今はサイボーズを使っていますが、入力が面倒で定着していません。"),
    )
    doc = writer.write(heard, lang="ja", reference_date=REFERENCE, catalog=catalog)
    assert [c.name for c in doc.competitors] == ["サイボウズ"]
    assert [p.name for p in doc.products] == []


@pytest.mark.parametrize(
    ("turns", "status", "words"),
    [
        ((), "empty", None),
        ((("customer", "♪"), ("customer", "[Music]")), "empty", None),
        ((("customer", "Hello?"),), "too_short", "Hello?"),
        ((("customer", "はい。"),), "too_short", "はい。"),
    ],
)
def test_bad_input_says_so_instead_of_inventing(
    writer: OfflineMinutesWriter, turns: tuple[tuple[str, str], ...], status: str, words: str | None
) -> None:
    lang = "ja" if any("は" in t for _, t in turns) else "en"
    doc = writer.write(call(*turns), lang=lang, reference_date=REFERENCE)
    assert doc.status == status
    assert doc.notice
    if words:
        assert words in doc.notice
    assert doc.evidence_ids() == set()
    assert doc.sentiment is None
    assert doc.participants == []


@pytest.mark.parametrize(
    ("text", "lang", "amount", "currency"),
    [
        ("月額三十万円になります", "ja", 300_000, "JPY"),
        ("予算は400万円までです", "ja", 4_000_000, "JPY"),
        ("1億2000万円の案件", "ja", 120_000_000, "JPY"),
        ("１，５００円です", "ja", 1_500, "JPY"),
        ("It is $45 per seat", "en", 45, "USD"),
        ("about $50,000 a year", "en", 50_000, "USD"),
        ("forty five dollars a month", "en", 45, "USD"),
        ("thirteen hundred and fifty dollars", "en", 1_350, "USD"),
        ("we pay 2.5k euros", "en", 2_500, "EUR"),
        ("their plans are as low as 29 bucks a month", "en", 29, "USD"),
    ],
)
def test_money(text: str, lang: str, amount: float, currency: str) -> None:
    found = find_money(text, lang)  # type: ignore[arg-type]
    assert [(m.amount, m.currency) for m in found] == [(amount, currency)]
    assert find_money("We have about 40 reps across three offices", "en") == []


def units(texts: list[str]) -> list[SummaryUnit]:
    out = []
    for text in texts:
        tokens = tuple(text.lower().replace(".", "").split())
        out.append(
            SummaryUnit(
                text=text, tokens=tokens, stop=tuple(t in {"the", "a", "is"} for t in tokens), length=len(tokens)
            )
        )
    return out


def test_summary_in_call_order_within_budget_without_repeats(embedder: Embedder) -> None:
    texts = [
        "Okay so let us get started with the meeting today everyone.",
        "The remote control needs a bigger battery and a rubber case.",
        "The remote control needs a bigger battery and a rubber case.",
        "We could sell the remote control for twenty five euros each.",
        "I had pizza for lunch and it was fine I suppose really.",
        "The battery of the remote control must last a whole year.",
    ]
    vectors = embedder.encode(texts)
    picked = summarize(units(texts), vectors, budget=30)
    assert picked == sorted(picked)
    assert not {1, 2} <= set(picked)  # MMR: the same sentence twice is never picked twice
    assert sum(len(texts[i].split()) for i in picked[:-1]) < 30
    assert 4 not in picked  # off topic: shares no phrase with the rest
    assert lead(units(texts), 15) == [0, 1]
    assert lexrank_summary(units(texts), vectors, 10) == sorted(lexrank_summary(units(texts), vectors, 10))
    assert summarize(units(texts), np.zeros((6, 512), dtype=np.float32), budget=0) == []


def test_redacted_document_keeps_no_personal_data(redactor_en: PiiRedactor, writer: OfflineMinutesWriter) -> None:
    turns = call(
        ("rep", "Hi Priya, this is Sam from CallSpring."),
        ("customer", "Hi Sam. I will send the signed form from priya.shah@northwind.example by Friday."),
        ("rep", "Great, I will call you on 415-555-0132 next Monday."),
        ("customer", "Our CFO, Dana Whitfield, decides. I will send the contract to Dana by next Friday."),
    )
    doc = writer.write(turns, lang="en", reference_date=REFERENCE)
    content = doc.model_dump(mode="json")
    redactions, redacted = redact_call([u.text for u in turns], content, redactor_en)
    text = str(redacted)
    original = str(content)
    # The redactor's NER misses the greeted "Priya"; the minutes name her as the customer, so she is redacted too.
    assert "Priya" in redactor_en.redact(turns[0].text).text
    for secret in ("Sam", "Priya", "Dana", "Whitfield", "415-555-0132", "priya.shah@northwind.example"):
        assert secret in original  # the minutes quote them all ...
        assert secret not in text  # ... the redacted minutes none ...
        assert all(secret not in r.text for r in redactions)  # ... and neither does the redacted transcript
    assert "[NAME]" in text
    assert [a.due for a in MinutesDoc.model_validate(redacted).next_actions] == [
        date(2026, 11, 27),
        date(2026, 11, 30),
        date(2026, 12, 4),
    ]
