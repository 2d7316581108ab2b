"""PII redaction, table-driven: every kind in Japanese and English, the negatives, the allow-list, Whisper output."""

from __future__ import annotations

import pytest

from insight.nlp.pii import PiiRedactor, luhn_valid, my_number_valid, redact, restore
from insight.nlp.types import PiiKind

JA_CASES = [
    # phone numbers: landline, mobile, full-width, spaces, の, kanji digits, +81, free dial
    ("電話番号は03-1234-5678です。", "電話番号は[電話番号]です。"),
    ("携帯は090-1234-5678です。", "携帯は[電話番号]です。"),
    ("電話は０３－１２３４－５６７８です。", "電話は[電話番号]です。"),
    ("携帯は 090 1234 5678 です。", "携帯は [電話番号] です。"),
    ("090の1234の5678にお電話ください。", "[電話番号]にお電話ください。"),
    ("〇九〇の一二三四の五六七八です。", "[電話番号]です。"),
    ("海外からは+81 90-1234-5678へ。", "海外からは[電話番号]へ。"),
    ("フリーダイヤル0120-123-456まで。", "フリーダイヤル[電話番号]まで。"),
    ("携帯は09012345678です。", "携帯は[電話番号]です。"),
    # e-mail
    ("メールはtanaka@example.co.jpまでお願いします。", "メールは[メールアドレス]までお願いします。"),
    ("アドレスは tanaka アットマーク example ドット co ドット jp です。", "アドレスは [メールアドレス] です。"),
    # credit cards: Luhn-valid is redacted, Luhn-invalid is left alone
    ("カード番号は4111 1111 1111 1111です。", "カード番号は[カード番号]です。"),
    ("カード番号は４１１１１１１１１１１１１１１１です。", "カード番号は[カード番号]です。"),
    ("カード番号は4111 1111 1111 1112です。", "カード番号は4111 1111 1111 1112です。"),
    # My Number: valid check digit is redacted, a wrong one is not
    ("マイナンバーは123456789018です。", "マイナンバーは[マイナンバー]です。"),
    ("マイナンバーは1234 5678 9018です。", "マイナンバーは[マイナンバー]です。"),
    ("マイナンバーは123456789010です。", "マイナンバーは123456789010です。"),
    # postal codes and addresses
    ("〒105-0011 東京都港区芝公園4-2-8にお越しください。", "〒[郵便番号] [住所]にお越しください。"),
    ("郵便番号は1050011です。", "郵便番号は[郵便番号]です。"),
    ("住所は大阪府大阪市北区梅田3丁目1番1号です。", "住所は[住所]です。"),
    ("本社は港区芝公園4-2-8です。", "本社は[住所]です。"),
    ("埼玉県さいたま市浦和区高砂3-15-1に移転しました。", "[住所]に移転しました。"),
    ("東京都と大阪府に拠点があります。", "東京都と大阪府に拠点があります。"),
    # person names: NER, honorifics kept, allow-listed name kept, roles are not names
    ("田中さんの携帯は090-1234-5678です。", "[氏名]さんの携帯は[電話番号]です。"),
    ("佐藤様にお伝えください。", "[氏名]様にお伝えください。"),
    ("山田太郎と申します。", "[氏名]と申します。"),
    ("鈴木さんと高橋部長が同席します。", "鈴木さんと[氏名]部長が同席します。"),
    ("お客様と皆さん、ご担当者様にご案内します。", "お客様と皆さん、ご担当者様にご案内します。"),
    ("セールスフォースさんとも比較しています。", "セールスフォースさんとも比較しています。"),
    # things that look like numbers but are not PII
    ("予算は1,000,000円で、2026年11月25日に決めます。", "予算は1,000,000円で、2026年11月25日に決めます。"),
    ("ユーザーは120名、導入は3ヶ月後です。", "ユーザーは120名、導入は3ヶ月後です。"),
    # head counts before 様 are numbers of people, while a name that contains a numeral is still a name
    ("研修は50名様まで、三名様からお申し込みいただけます。", "研修は50名様まで、三名様からお申し込みいただけます。"),
    ("当日は１０名さまと五人様のお席をご用意します。", "当日は１０名さまと五人様のお席をご用意します。"),
    ("三郎さんにもお伝えください。", "[氏名]さんにもお伝えください。"),
]

EN_CASES = [
    ("Call me at (415) 555-0100 tomorrow.", "Call me at [PHONE] tomorrow."),
    ("My cell is 415-555-0100.", "My cell is [PHONE]."),
    ("My number is 4155550100.", "My number is [PHONE]."),
    ("Our London office is +44 20 7946 0958.", "Our London office is [PHONE]."),
    ("Reach me on 090 1234 5678 while I'm in Tokyo.", "Reach me on [PHONE] while I'm in Tokyo."),
    ("My email is john.smith@acme.com.", "My email is [EMAIL]."),
    ("It's john dot smith at acme dot com.", "It's [EMAIL]."),
    ("The card is 4111-1111-1111-1111, expiry next May.", "The card is [CARD_NUMBER], expiry next May."),
    ("Amex 3782 822463 10005 works too.", "Amex [CARD_NUMBER] works too."),
    ("The card is 4111-1111-1111-1112.", "The card is 4111-1111-1111-1112."),
    ("Her My Number is 123456789018.", "Her My Number is [MY_NUMBER]."),
    ("Order 123456789010 shipped.", "Order 123456789010 shipped."),
    ("Ship it to 1600 Pennsylvania Avenue, Washington, DC 20500.", "Ship it to [ADDRESS]."),
    ("I live at 221 Baker Street, London NW1 6XE.", "I live at [ADDRESS] [POSTAL_CODE]."),
    ("The zip code is 94103.", "The zip code is [POSTAL_CODE]."),
    ("I spoke with Mr. Johnson and Sarah Connor.", "I spoke with Mr. [NAME] and [NAME]."),
    ("Hi, this is Jane Doe from Acme.", "Hi, this is Jane Doe from Acme."),
    ("Jane will send the deck.", "Jane will send the deck."),
    ("We have 120 users and a budget of 50,000 dollars.", "We have 120 users and a budget of 50,000 dollars."),
    ("We compared Salesforce and HubSpot last year.", "We compared Salesforce and HubSpot last year."),
    # a phone number followed by another number; counting aloud is not a phone number
    ("Call 090-1234-5678 2 times.", "Call [PHONE] 2 times."),
    ("1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16", "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16"),
]


@pytest.mark.parametrize(("text", "expected"), JA_CASES)
def test_japanese(redactor_ja: PiiRedactor, text: str, expected: str) -> None:
    result = redactor_ja.redact(text)
    assert result.text == expected
    assert restore(result) == text


@pytest.mark.parametrize(("text", "expected"), EN_CASES)
def test_english(redactor_en: PiiRedactor, text: str, expected: str) -> None:
    result = redactor_en.redact(text)
    assert result.text == expected
    assert restore(result) == text


def test_spans_record_kind_offsets_and_original(redactor_ja: PiiRedactor) -> None:
    text = "田中さんの携帯は090-1234-5678、メールはt.tanaka@example.jpです。"
    result = redactor_ja.redact(text)
    assert [(s.kind, s.original, text[s.start : s.end], s.placeholder) for s in result.spans] == [
        (PiiKind.PERSON, "田中", "田中", "[氏名]"),
        (PiiKind.PHONE, "090-1234-5678", "090-1234-5678", "[電話番号]"),
        (PiiKind.EMAIL, "t.tanaka@example.jp", "t.tanaka@example.jp", "[メールアドレス]"),
    ]
    assert result.kinds == {PiiKind.PERSON, PiiKind.PHONE, PiiKind.EMAIL}


def test_redact_many_matches_redact(redactor_en: PiiRedactor) -> None:
    texts = [text for text, _ in EN_CASES]
    assert [r.text for r in redactor_en.redact_many(texts)] == [expected for _, expected in EN_CASES]


def test_without_ner_names_come_from_patterns_only() -> None:
    result = redact("田中さんと山田太郎に090-1234-5678で連絡します", "ja", use_ner=False)
    assert result.text == "[氏名]さんと山田太郎に[電話番号]で連絡します"


def test_allow_list_keeps_a_value_of_any_kind() -> None:
    text = "代表番号は03-1234-5678、担当の携帯は090-1111-2222です"
    result = redact(text, "ja", allow_list=["03-1234-5678"], use_ner=False)
    assert result.text == "代表番号は03-1234-5678、担当の携帯は[電話番号]です"


def test_kinds_can_be_limited() -> None:
    redactor = PiiRedactor("en", kinds=[PiiKind.EMAIL], use_ner=False)
    assert redactor.redact("Mail a@b.io or call 415-555-0100").text == "Mail [EMAIL] or call 415-555-0100"


def test_placeholder_text_in_the_original_survives_restore() -> None:
    text = "The template says [PHONE]; my phone is 415-555-0100"
    result = redact(text, "en", use_ner=False)
    assert result.text == "The template says [PHONE]; my phone is [PHONE]"
    assert restore(result) == text


def test_empty_text() -> None:
    result = redact("", "ja")
    assert (result.text, result.spans) == ("", ())


@pytest.mark.parametrize(
    ("number", "valid"),
    [("4111111111111111", True), ("378282246310005", True), ("4111111111111112", False), ("79927398713", True)],
)
def test_luhn(number: str, valid: bool) -> None:
    assert luhn_valid(number) is valid


@pytest.mark.parametrize(("number", "valid"), [("123456789018", True), ("123456789010", False), ("12345678901", False)])
def test_my_number_check_digit(number: str, valid: bool) -> None:
    assert my_number_valid(number) is valid
