"""PII redaction, table-driven: every kind in Japanese and English, the negatives, the allow-list, Whisper output."""

from __future__ import annotations

import pytest

from insight.nlp.pii import PiiRedactor, luhn_valid, my_number_valid, redact, restore
from insight.nlp.pii_context import aba_valid, iban_valid, ssn_valid
from insight.nlp.spoken_digits import transliterate
from insight.nlp.types import PiiKind
from tests.fixtures.bench import load_bench

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
    # phone numbers spoken as words: kana, kanji, mixed with digits; a trailing に is the particle
    ("電話番号はゼロキューゼロのいちにさんよんのごーろくななはちです。", "電話番号は[電話番号]です。"),
    ("ぜろさん、ごーよんいちにの、ななはちきゅうぜろでも繋がります。", "[電話番号]でも繋がります。"),
    ("090の5521のろくななはちきゅうにお電話ください。", "[電話番号]にお電話ください。"),
    ("携帯は〇七〇の四四一二の八八〇三です。", "携帯は[電話番号]です。"),
    ("えーと、ゼロハチゼロのーななななにーいちのさんさんよんごです。", "えーと、[電話番号]です。"),
    ("いちご大福を二、三個ください。", "いちご大福を二、三個ください。"),
    # e-mail addresses spelled out in katakana; a cue that runs into the address stays
    ("メールアドレスはタナカアットマークイグザンプルドットコムです。", "メールアドレスは[メールアドレス]です。"),
    ("メールアドレスタナカアットマークイグザンプルドットコムです。", "メールアドレス[メールアドレス]です。"),
    ("メールはyamada アットマーク example ドット jpでお願いします。", "メールは[メールアドレス]でお願いします。"),
    # dates of birth: after 生年月日 or before 生まれ, western or era years, kanji digits; other dates stay
    ("生年月日は1985年4月1日です。", "生年月日は[生年月日]です。"),
    ("昭和60年4月1日生まれです。", "[生年月日]生まれです。"),
    ("生年月日は平成元年5月8日で登録されています。", "生年月日は[生年月日]で登録されています。"),
    ("生年月日、一九九二年七月十五日です。", "生年月日、[生年月日]です。"),
    ("導入は2026年4月1日、弊社は1985年創業です。", "導入は2026年4月1日、弊社は1985年創業です。"),
    # bank accounts: the number after 口座/支店番号/記号, spoken too; the nearest cue decides; amounts stay
    ("口座番号は普通の1234567です。", "口座番号は普通の[口座番号]です。"),
    ("支店番号は123、口座番号は0012345になります。", "支店番号は[口座番号]、口座番号は[口座番号]になります。"),
    ("口座番号が、いちにさんよんごーろくななです。", "口座番号が、[口座番号]です。"),
    ("ゆうちょの記号が12340、番号が12345671です。", "ゆうちょの記号が[口座番号]、番号が[口座番号]です。"),
    ("口座番号は1234567、電話番号は03-1234-5678です。", "口座番号は[口座番号]、電話番号は[電話番号]です。"),
    (
        "口座に50000円を振り込みました。口座振替は毎月27日です。",
        "口座に50000円を振り込みました。口座振替は毎月27日です。",
    ),
    ("社会保障番号は457-55-5462です。", "社会保障番号は[社会保障番号]です。"),
    # companies GiNZA reads as people, surnames NER misses, places that are also surnames, nouns before 様
    (
        "トヨタさんや日立さん、楽楽精算さんでも採用いただいています。",
        "トヨタさんや日立さん、楽楽精算さんでも採用いただいています。",
    ),
    ("経理の渡辺に確認します。梅田のオフィスに移転します。", "経理の[氏名]に確認します。梅田のオフィスに移転します。"),
    ("ご本人様と老舗企業様、お寿司屋さんにご案内します。", "ご本人様と老舗企業様、お寿司屋さんにご案内します。"),
    # a prefecture and a city alone are an address only when someone says it is theirs
    ("愛知県豊田市の本社工場を見学しました。", "愛知県豊田市の本社工場を見学しました。"),
    ("自宅は愛知県豊田市です。", "自宅は[住所]です。"),
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
    # phone numbers spoken as words: "oh", "double", "one eight hundred"; a leading "Oh," is not a digit
    ("My cell is five five five, one two three, four five six seven.", "My cell is [PHONE]."),
    ("Call me back on double five five, three nine two, oh one eight eight.", "Call me back on [PHONE]."),
    ("The toll-free line is one eight hundred, five five five, zero one nine nine.", "The toll-free line is [PHONE]."),
    ("Oh, and my number is six one seven, eight oh four, two two nine one.", "Oh, and my number is [PHONE]."),
    ("We need two or three licenses, maybe four.", "We need two or three licenses, maybe four."),
    # spoken e-mail addresses; "at" as a preposition stays
    ("It's tom underscore baker at globex dot co dot uk.", "It's [EMAIL]."),
    ("Message me at helpforbraylen at gmail dot com.", "Message me at [EMAIL]."),
    ("Questions go to support at northwind dot io.", "Questions go to [EMAIL]."),
    ("We had strong sales at the expo in Osaka.", "We had strong sales at the expo in Osaka."),
    (
        "You can find the pricing at acme dot com slash pricing.",
        "You can find the pricing at acme dot com slash pricing.",
    ),
    ("Take a look at acme dot com when you can.", "Take a look at acme dot com when you can."),
    # "Email" starting a request is a verb, not a name
    ("Email me at jane.doe@example.com and I'll forward it.", "Email me at [EMAIL] and I'll forward it."),
    ("Email is the best way to reach us.", "Email is the best way to reach us."),
    # dates of birth after "date of birth", "born on", "birthday"; other dates and years stay
    (
        "For the credit check I'll need your date of birth. Sure, it's April 1st, 1985.",
        "For the credit check I'll need your date of birth. Sure, it's [DATE_OF_BIRTH].",
    ),
    (
        "I was born on 04/01/1985, and my birthday is July 4th.",
        "I was born on [DATE_OF_BIRTH], and my birthday is [DATE_OF_BIRTH].",
    ),
    (
        "The contract starts April 1st, 2026; the company was founded in 1985.",
        "The contract starts April 1st, 2026; the company was founded in 1985.",
    ),
    # bank accounts: account number, sort code, routing number, IBAN; "account" without a number stays
    ("Account number 12345678, sort code 12-34-56.", "Account number [BANK_ACCOUNT], sort code [BANK_ACCOUNT]."),
    (
        "Our routing number is 021000021 and the account number is 000123456789.",
        "Our routing number is [BANK_ACCOUNT] and the account number is [BANK_ACCOUNT].",
    ),
    ("Wire it to IBAN GB29 NWBK 6016 1331 9268 19.", "Wire it to IBAN [BANK_ACCOUNT]."),
    (
        "Large accounts account for 30% of revenue, and the account team has 12 people.",
        "Large accounts account for 30% of revenue, and the account team has 12 people.",
    ),
    # social security numbers: by shape, by a cue before, by "that's my social" after
    ("My social security number is 123-45-6789.", "My social security number is [SSN]."),
    ("It's six one two, four four, nine zero one three, that's my social.", "It's [SSN], that's my social."),
    ("For the W-9 we need your SSN, 321 54 9876.", "For the W-9 we need your SSN, [SSN]."),
    # products the NER reads as people; a US address line whose street has no suffix
    ("Card number's 5555 5555 5555 4444, the Mastercard.", "Card number's [CARD_NUMBER], the Mastercard."),
    ("We already run Zendesk and Jira.", "We already run Zendesk and Jira."),
    ("The shipping address is 2200 Broadway, Oakland, CA 94612.", "The shipping address is [ADDRESS]."),
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


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("123456789", True),
        ("000456789", False),
        ("666456789", False),
        ("912456789", False),
        ("123006789", False),
        ("123450000", False),
    ],
)
def test_ssn_ranges(number: str, valid: bool) -> None:
    assert ssn_valid(number) is valid


def test_routing_and_iban_check_digits() -> None:
    assert aba_valid("021000021")
    assert not aba_valid("021000022")
    assert iban_valid("GB29 NWBK 6016 1331 9268 19")
    assert not iban_valid("GB28 NWBK 6016 1331 9268 19")
    assert iban_valid("DE89370400440532013000")


def test_spoken_digits_map_back_to_the_words() -> None:
    text = "My cell is five five five, one two three, four five six seven, thanks."
    spoken = transliterate(text)
    assert spoken.text == "My cell is 555-123-4567, thanks."
    start, end = spoken.source_span(spoken.text.index("555"), spoken.text.index(","))
    assert text[start:end] == "five five five, one two three, four five six seven"


def test_new_kinds_are_recorded_in_spans(redactor_en: PiiRedactor) -> None:
    text = "DOB is 3/14/1979, SSN 401-83-2267, sort code 40-47-84."
    result = redactor_en.redact(text)
    assert [(s.kind, s.original) for s in result.spans] == [
        (PiiKind.DATE_OF_BIRTH, "3/14/1979"),
        (PiiKind.SSN, "401-83-2267"),
        (PiiKind.BANK_ACCOUNT, "40-47-84"),
    ]
    assert restore(result) == text


# Recall per kind over the whole evaluation set (bench/data/pii_eval.jsonl, dev and held-out parts) as measured with
# this redactor; a regression of more than 0.05 fails. Precision over all kinds was 1.00.
MEASURED_RECALL = {
    "phone": 1.00,
    "email": 0.94,
    "credit_card": 1.00,
    "my_number": 1.00,
    "postal_code": 1.00,
    "address": 1.00,
    "person": 0.96,
    "date_of_birth": 1.00,
    "bank_account": 1.00,
    "ssn": 1.00,
}
MARGIN = 0.05


def test_evaluation_set_recall_per_kind_and_precision(nlp_ja: object, nlp_en: object) -> None:
    bench = load_bench("pii_eval")
    cases = bench.load_cases()
    assert len(cases) >= 200
    scores = bench.score(cases, bench.redactor_finder(PiiRedactor))
    recall = {kind: scores.recall(kind) for kind in MEASURED_RECALL}
    assert all(scores.expected[kind] >= 12 for kind in MEASURED_RECALL), scores.expected
    failing = {kind: value for kind, value in recall.items() if value < MEASURED_RECALL[kind] - MARGIN}
    assert not failing, [(case.id, span) for case, span in scores.misses]
    assert scores.precision() >= 1.00 - MARGIN, [(case.id, span) for case, span in scores.false_alarms]
