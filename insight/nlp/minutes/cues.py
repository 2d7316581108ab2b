"""Lexical cues for the minutes, per language: what marks a need, an objection, a question, a decision, a
commitment; money amounts; self-introductions and names used to address someone; filler words.

These are regular expressions over one sentence of ASR output, so they are written for spoken language as Whisper
writes it (digits as numerals, ``?`` at questions, Japanese with 、。 and full-width characters folded first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from insight.nlp.text import fold_width, parse_number
from insight.nlp.types import Lang

# --- sentence classes ----------------------------------------------------------------------------------------------

# Questions: Whisper puts ? on most English questions; Japanese ones end in か (ますか, でしょうか) with or without ？.
QUESTION: dict[Lang, re.Pattern[str]] = {
    "ja": re.compile(r"(?:[？?]|(?:ます|です|でしょう|ません|ました|できる|ある|ない|の)か[。.]?|かね[。.]?)\s*$"),
    # Indirect questions ("I was wondering if there is a service ...") are questions too.
    "en": re.compile(
        r"\?\s*$|^(?:so,? |well,? )?(?:i was wondering|i wonder|i'd like to know|do you know if|can you tell me)\b",
        re.I,
    ),
}

NEED: dict[Lang, re.Pattern[str]] = {
    "ja": re.compile(
        r"課題|困って|困る|悩み|問題|手間|負担|不満|非効率|集まらない|してくれない|できていない|かかっています|効率化|自動化|"
        r"足りない|見えない|属人|欲しい|ほしい|したいと|改善したい|解決したい|必要があ"
    ),
    "en": re.compile(
        r"\b(?:problems?|issues?|challenges?|struggl\w*|pain(?:ful)?|hates?|frustrat\w*|waste\w*|by hand|manual\w*|"
        r"out of date|behind|guesswork|never|no one|nobody|we need|we want|looking for|wondering if|is there a way|"
        r"a service that|a way to|optimi[sz]\w*|improv\w*|speed up|automat\w*|"
        r"spend\w* (?:hours|half|a lot|"
        r"too much)|takes? (?:us )?(?:too )?(?:long|forever))\b",
        re.IGNORECASE,
    ),
}

OBJECTION: dict[Lang, re.Pattern[str]] = {
    "ja": re.compile(
        r"高い|高く|割高|予算(?:オーバー|を超え|が厳し|が足り)|厳しい|難し|懸念|心配|不安|気にな|気にする|"
        r"リスク|見送|使いこなせ|セキュリティ|情報漏|他社の方が安|安い(?:ん)?ですよね"
    ),
    "en": re.compile(
        r"\b(?:expensive|pricey|too (?:much|high|expensive|pricey)|more than we (?:hoped|expected|wanted)|"
        r"over (?:our |the )?budget|cheaper|concern\w*|worr\w*|risk\w*|not sure|hesitant|security|"
        r"not (?:very )?technical|will they manage|lock[- ]in|too complicated|too long)\b",
        re.IGNORECASE,
    ),
}

DECISION: dict[Lang, re.Pattern[str]] = {
    "ja": re.compile(
        r"ことにしましょう|ことにします|ことになりました|に決めました|で決定|決まりました|で進めましょう|で進めます|"
        r"で合意|で行きましょう|でいきましょう|導入を決め|契約します|発注します"
    ),
    "en": re.compile(
        r"\b(?:let's (?:start|go|do|move|proceed|begin|kick)|we(?:'ll| will) go (?:with|ahead)|"
        r"we(?:'ve| have)? decided|agreed|we're going with|we are going with|it's a deal|we'll sign|we will sign|"
        r"let's sign)\b",
        re.IGNORECASE,
    ),
}

# A commitment: the speaker (or their side) will do something. Japanese: an action verb in the volitional
# non-past (お送りします, 取っておきます, ご連絡いたします); "できます" (can) and descriptions (ています) are not.
_JA_ACTION_VERBS = (
    r"送り|送付|お送り|連絡|ご連絡|共有|確認|手配|準備|用意|ご用意|調整|相談|提出|返信|回答|取り|取っ|作成|作り|"
    r"まとめ|持っ|お持ち|伺い|お伺い|提案|ご提案|設定|案内|ご案内|招待|声をかけ|話を通し|通し|上げ|申請|"
    r"検討し|共有し|確認し|打診|依頼|メールし|電話し|お電話し|見せ|展開し|説明し|ご説明"
)
COMMITMENT: dict[Lang, re.Pattern[str]] = {
    "ja": re.compile(
        rf"(?:{_JA_ACTION_VERBS})(?:い?たし|し|させていただき|ておき|てまいり|てき)?(?:ます|ておきます)[。.!！]?\s*$"
    ),
    "en": re.compile(
        r"\b(?:I|we)(?:'ll| will| shall|'m going to| am going to|'re going to| are going to)\s+(?:\w+\s+){0,2}?"
        r"(?:send|share|follow|get|email|e-mail|call|schedule|set up|prepare|review|check|return|confirm|book|"
        r"arrange|draft|forward|loop|introduce|circle back|reach out|put together|update|talk to|ask|deliver|"
        r"submit|sign|run|present|invite)\b|\blet me (?:send|share|check|get|email|set up|schedule|follow)\b",
        re.IGNORECASE,
    ),
}

# Where a rep's proposal is accepted ("Next Friday works.", "はい、大丈夫です").
ACCEPTANCE: dict[Lang, re.Pattern[str]] = {
    "ja": re.compile(
        r"^(?:はい|ええ|ぜひ|是非|いいですね|大丈夫|結構です|お願いします|承知)|でお願いします|で大丈夫です"
    ),
    "en": re.compile(
        r"^(?:yes|yeah|sure|ok(?:ay)?|sounds good|perfect|great|works|that works|let's do)\b|\bworks(?: for me)?\b",
        re.IGNORECASE,
    ),
}
PROPOSAL_TOPIC: dict[Lang, re.Pattern[str]] = {
    "ja": re.compile(r"デモ|打ち合わせ|お打ち合わせ|ミーティング|会議|お時間|ご説明|訪問|トライアル"),
    "en": re.compile(r"\b(?:demo|meeting|call|session|walkthrough|pilot|trial|workshop|visit)\b", re.IGNORECASE),
}

TIMELINE: dict[Lang, re.Pattern[str]] = {
    "ja": re.compile(r"導入|開始|稼働|契約|予定|決定|完了|納品|リリース|スタート|始め|切り替え|更新|締め|期限|までに"),
    "en": re.compile(
        r"\b(?:roll ?out|go[- ]live|launch|start|begin|deadline|contract|renewal|decision|kick[- ]?off|implement\w*|"
        r"switch|migrat\w*|by|until|plan\w*)\b",
        re.IGNORECASE,
    ),
}

DECISION_CONTEXT: dict[Lang, re.Pattern[str]] = {
    "ja": re.compile(r"判断|決裁|承認|決め|決定|了解|稟議|サイン|ゴーサイン|最終"),
    "en": re.compile(
        r"\b(?:decid\w*|decision|sign(?:s|ed)?[- ]off|approv\w*|final (?:call|say|word)|budget holder)\b", re.I
    ),
}

# "Our"/"弊社の" before a name marks the rep's own product; other vendors appear in these contexts.
OWN_PRODUCT: dict[Lang, re.Pattern[str]] = {
    "ja": re.compile(r"(?:弊社|当社|私ども|わたくしども)の(?P<name>[ァ-ヶーA-Za-z0-9][ァ-ヶーA-Za-z0-9・ .]{1,24})"),
    "en": re.compile(r"\bour (?P<name>[A-Z][\w.+-]*(?: [A-Z0-9][\w.+-]*){0,2})"),
}
_JA_NAME_CHARS = r"[ァ-ヶーA-Za-z0-9一-龥々][ァ-ヶーA-Za-z0-9一-龥々・.]{1,24}?"
COMPETITOR_CONTEXT: dict[Lang, tuple[re.Pattern[str], ...]] = {
    "ja": (
        re.compile(rf"(?:今は|現在は?|いまは)、?(?P<name>{_JA_NAME_CHARS})(?:を|の)(?:使って|利用して|導入して)"),
        re.compile(rf"他社の(?P<name>{_JA_NAME_CHARS})(?:という|は|を|の|と)"),
        re.compile(rf"(?P<name>{_JA_NAME_CHARS})(?:から|より)(?:乗り換え|の乗り換え)"),
        re.compile(rf"(?P<name>{_JA_NAME_CHARS})(?:さん)?の(?:見積|提案|価格|料金)"),
    ),
    "en": (
        re.compile(
            r"\b(?:we(?:'re| are)? (?:use|using|on)|we've been using|currently (?:use|using|on)|switch(?:ing)? from|"
            r"moving off|replace|replacing|instead of|cheaper than|competitor)\s+(?:an? |the )?"
            r"(?P<name>[A-Z][\w.+-]*(?: [A-Z0-9][\w.+-]*){0,2})"
        ),
        re.compile(r"(?P<name>[A-Z][\w.+-]*(?: [A-Z0-9][\w.+-]*){0,2}) (?:offered|quoted|is cheaper|charges)\b"),
    ),
}
COMPARISON: dict[Lang, re.Pattern[str]] = {
    "ja": re.compile(rf"(?P<a>{_JA_NAME_CHARS})と(?P<b>{_JA_NAME_CHARS})(?:を|で)?(?:比較|比べ|迷って|検討)"),
    "en": re.compile(
        r"(?P<a>[A-Z][\w.+-]*(?: [A-Z0-9][\w.+-]*){0,1})\s+(?:versus|vs\.?|against|or|and|compared (?:to|with))\s+"
        r"(?P<b>[A-Z][\w.+-]*(?: [A-Z0-9][\w.+-]*){0,1})"
    ),
}
COMPARISON_CONTEXT: dict[Lang, re.Pattern[str]] = {
    "ja": re.compile(r"比較|比べ|迷って|検討"),
    "en": re.compile(r"\b(?:compar\w*|versus|vs\.?|against|evaluat\w*|deciding between|choos\w*)\b", re.I),
}

# --- participants ----------------------------------------------------------------------------------------------------

SELF_INTRO: dict[Lang, re.Pattern[str]] = {
    "ja": re.compile(
        r"(?:^|[。、]|ございます|おります)\s*(?:(?P<org>[^、。\s]{2,30}?)(?:、|の)\s*)?(?:(?P<dept>[一-龥ァ-ヶー]{1,12}部)の)?"
        r"(?P<name>[一-龥々]{1,4}|[ァ-ヶー]{2,8})(?:と申します|です)[。!！]?"
    ),
    "en": re.compile(
        r"\b(?i:this is|my name is|i'm|i am|it's)\s+(?P<name>[A-Z][a-z]+(?: [A-Z][a-z]+)?)"
        r"(?:\s+(?:from|at|with)\s+(?P<org>[A-Z][\w&.-]*(?: [A-Z][\w&.-]*){0,3}))?"
        r"|\b(?P<name2>[A-Z][a-z]+) here\b"
    ),
}
EN_ORG_OF_SPEAKER = re.compile(
    r"\b(?i:here at|i work (?:at|for)|we're|we are) (?P<org>[A-Z][\w&.-]*(?: [A-Z][\w&.-]*){0,3})"
)
ADDRESSED: dict[Lang, re.Pattern[str]] = {
    "ja": re.compile(r"(?P<name>[一-龥々]{1,4})さん"),
    "en": re.compile(
        r"(?:\b(?i:hi|hello|hey|thanks|thank you|bye|goodbye|morning|afternoon|up|sorry),?\s+(?P<name>[A-Z][a-z]+)\b)"
        r"|(?:,\s*(?P<name2>[A-Z][a-z]+)\s*[,?.!]\s*)"
    ),
}
# Capitalised words that the vocative pattern would otherwise take for names.
EN_NOT_NAMES = frozenset(
    "I So And But Yes No Okay OK Well Great Sure Right Thanks Thank Perfect Good Hi Hello Hey The This That It We You "
    "They Our Your My Oh Now Then Also Just Maybe Actually Absolutely Yeah Understood Fantastic Monday Tuesday "
    "Wednesday Thursday Friday Saturday Sunday January February March April May June July August September October "
    "November December".split()
)

# Greetings and thanks: never summary material on their own.
PLEASANTRY: dict[Lang, re.Pattern[str]] = {
    "ja": re.compile(
        r"お世話になっております|お世話になります|ありがとうございま(?:す|した)|よろしくお願い(?:いた)?します|"
        r"宜しくお願い(?:いた)?します|こちらこそ|お疲れ様です|失礼します|はじめまして|本日は|お時間(?:を|の)いただき"
    ),
    "en": re.compile(
        r"\b(?:hi|hello|hey|thanks|thank you|good (?:morning|afternoon)|nice to (?:meet|see) you|"
        r"for (?:making|taking) (?:the )?time(?: today)?|have a (?:good|great) (?:day|one)|bye|goodbye|great|"
        r"perfect)\b",
        re.IGNORECASE,
    ),
}

# Words of talk that carry no topic, beyond the model's stop words: a bigram of two of these ("kind of", "I mean",
# "そう です") is no evidence of what a call is about (bench/minutes_eval.py: ROUGE-2 4.0 -> 5.1 on QMSum).
CONVERSATIONAL_STOP: dict[Lang, frozenset[str]] = {
    "en": frozenset(
        "yeah yes okay ok oh um uh like gonna wanna gotta kind sort thing things mean know think right well just "
        "really actually so mm hmm alright got get go going stuff lot little bit".split()
    ),
    "ja": frozenset(
        "はい ええ うん そう まあ あの えー えっと ちょっと なんか やっぱり 本当 ほんと 多分 感じ 思う".split()
    ),
}

# --- fillers ---------------------------------------------------------------------------------------------------------

_FILLERS: dict[Lang, re.Pattern[str]] = {
    "ja": re.compile(r"(?:えー+と?|ええと|えっと|あのー+|あの、|まあ、|うーん|んー|えー、?|そのー)、?"),
    "en": re.compile(r"\b(?:u+m+|u+h+|e+r+m*|h+m+|m+h?m+|uh-huh|mm-hmm)\b[,.]?\s*|\b(?:you know|i mean),\s*", re.I),
}
_EN_LEADING = re.compile(r"^(?:(?:so|and|but|well|okay|ok|yeah|oh|alright|now)\b[\s,]*)+", re.IGNORECASE)
_EN_STUTTER = re.compile(r"\b(\w+)(?:\s+\1\b)+", re.IGNORECASE)


def clean_sentence(text: str, lang: Lang) -> str:
    """A sentence without fillers, stutters and leading discourse markers, for display in the minutes."""
    out = _FILLERS[lang].sub("", text)
    if lang == "en":
        out = _EN_STUTTER.sub(r"\1", out)
        out = _EN_LEADING.sub("", out.strip())
        out = re.sub(r"\s+([,.?!])", r"\1", re.sub(r"\s{2,}", " ", out)).strip(" ,")
        return out[:1].upper() + out[1:] if out else out
    return out.strip().lstrip("、")


# --- money -----------------------------------------------------------------------------------------------------------

_EN_SMALL = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "a": 1,
}  # fmt: skip
_EN_SCALE = {
    "hundred": 100,
    "thousand": 1_000,
    "million": 1_000_000,
    "billion": 1_000_000_000,
    "k": 1_000,
    "m": 1_000_000,
}
_EN_NUMBER_WORD = r"(?:" + "|".join(sorted((k for k in _EN_SMALL if k != "a"), key=len, reverse=True)) + r")"
_EN_WORDS_NUMBER = rf"{_EN_NUMBER_WORD}(?:[\s-]+(?:and\s+)?(?:{_EN_NUMBER_WORD}|hundred|thousand|million|billion))*"
_CURRENCY_WORDS = {
    "dollar": "USD", "dollars": "USD", "bucks": "USD", "usd": "USD", "euro": "EUR", "euros": "EUR", "eur": "EUR",
    "pound": "GBP", "pounds": "GBP", "gbp": "GBP", "yen": "JPY", "jpy": "JPY",
}  # fmt: skip
_CURRENCY_SIGNS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "￥": "JPY"}

_EN_MONEY = re.compile(
    r"(?P<sign>[$€£¥])\s?(?P<num>\d[\d,]*(?:\.\d+)?)\s?(?P<scale>k|m|thousand|million|billion)?\b"
    rf"|(?P<num2>\d[\d,]*(?:\.\d+)?|{_EN_WORDS_NUMBER})\s?(?P<scale2>k|thousand|million|billion)?\s+"
    r"(?P<cur>dollars?|bucks|euros?|pounds?|yen|usd|eur|gbp|jpy)\b",
    re.IGNORECASE,
)
_JA_NUM = r"[0-9][0-9,，.]*|[〇零一二三四五六七八九十百千]+"
_JA_MONEY = re.compile(
    rf"(?P<num>{_JA_NUM})(?P<man>億|万|千)?(?:(?P<num_b>{_JA_NUM})(?P<man_b>万|千))?(?P<cur>円|ドル|ユーロ)"
)
_JA_SCALE = {"億": 100_000_000, "万": 10_000, "千": 1_000}
_JA_CURRENCY = {"円": "JPY", "ドル": "USD", "ユーロ": "EUR"}

_JA_DIGIT = "0-9〇零一二三四五六七八九十百千"
PERIOD: dict[Lang, tuple[tuple[re.Pattern[str], Literal["month", "year", "once"]], ...]] = {
    "ja": (
        (
            re.compile(
                rf"月額|月々|毎月|ひと月|1か月|一か月|一ヶ月|1ヶ月|月あたり|月当たり"
                rf"|(?<![{_JA_DIGIT}来今先])月(?:に|(?=[{_JA_DIGIT}]))"
            ),
            "month",
        ),
        (
            re.compile(
                rf"年額|年間|毎年|1年|一年|年あたり|年当たり|(?<![{_JA_DIGIT}来今去昨])年(?:に|(?=[{_JA_DIGIT}]))"
            ),
            "year",
        ),
        (re.compile(r"初期費用|一括|買い切り|一回|一度"), "once"),
    ),
    "en": (
        (re.compile(r"\b(?:a|per|each|every|/)\s?month|\bmonthly\b|\bmo\b", re.I), "month"),
        (re.compile(r"\b(?:a|per|each|every|/)\s?year|\b(?:yearly|annual(?:ly)?|annum)\b", re.I), "year"),
        (re.compile(r"\b(?:one[- ]time|one[- ]off|upfront|setup fee)\b", re.I), "once"),
    ),
}
# 1ユーザーあたり, 一人当たり, and a price said straight after "one user" (月額1ユーザー4,500円).
_JA_SEAT = "ユーザー|ID|ライセンス|アカウント|人|名|席|シート"
PER_UNIT: dict[Lang, re.Pattern[str]] = {
    "ja": re.compile(
        rf"(?:(?<![{_JA_DIGIT}])[1一])?(?P<unit>{_JA_SEAT})様?(?:あたり|当たり|につき)"
        rf"|(?<![{_JA_DIGIT}])[1一](?P<unit1>{_JA_SEAT})様?(?=[{_JA_DIGIT}])"
    ),
    "en": re.compile(r"(?:\bper|\ba|\ban|/)\s?(?P<unit>seat|user|license|licence|rep|agent|head|person)\b", re.I),
}
# Where one amount's terms end and the next amount's begin: "$45 per seat per month, so about $1350 a month".
_CLAUSE_BREAK: dict[Lang, re.Pattern[str]] = {
    "ja": re.compile(r"[、，,;；:：]|ですが|けれど|けど|ので|なら"),
    "en": re.compile(r"[,;:–—]|\s-\s|\b(?:so|which|that's|that is|but|whereas|while|compared to|versus|vs)\b", re.I),
}
BUDGET: dict[Lang, re.Pattern[str]] = {
    "ja": re.compile(r"予算|上限|までなら|まで(?:なん)?です|確保"),
    "en": re.compile(r"\b(?:budget\w*|set aside|can spend|afford|allocated|up to)\b", re.I),
}
PRICE: dict[Lang, re.Pattern[str]] = {
    "ja": re.compile(r"料金|価格|費用|見積|月額|年額|お値段|値段|プラン|ご利用"),
    "en": re.compile(
        r"\b(?:price\w*|cost\w*|per seat|per user|plan|quote|fee|charge\w*|subscription|it is|it's)\b", re.I
    ),
}


@dataclass(frozen=True)
class MoneyMention:
    """An amount of money found in a text: character offsets, the words said, value and currency (None when unknown)."""

    start: int
    end: int
    text: str
    amount: float | None
    currency: str | None


def _en_words_value(words: str) -> int | None:
    total = current = 0
    seen = False
    for word in re.split(r"[\s-]+", words.lower()):
        if not word or word == "and":
            continue
        if word in _EN_SMALL:
            current += _EN_SMALL[word]
            seen = True
        elif word == "hundred":
            current = (current or 1) * 100
            seen = True
        elif word in _EN_SCALE:
            total += (current or 1) * _EN_SCALE[word]
            current = 0
            seen = True
        else:
            return None
    return total + current if seen else None


def _number(token: str) -> float | None:
    folded = fold_width(token).replace(",", "").replace("，", "")
    try:
        return float(folded)
    except ValueError:
        pass
    value = parse_number(folded)
    if value is not None:
        return float(value)
    words = _en_words_value(folded)
    return float(words) if words is not None else None


def find_money(text: str, lang: Lang) -> list[MoneyMention]:
    """Money amounts in ``text`` with their value and ISO currency (offsets valid in ``text``)."""
    folded = fold_width(text)
    found: list[MoneyMention] = []
    if lang == "ja":
        for m in _JA_MONEY.finditer(folded):
            value = _number(m["num"])
            if value is not None and m["man"]:
                value *= _JA_SCALE[m["man"]]
            if value is not None and m["num_b"]:
                extra = _number(m["num_b"])
                value = value + extra * _JA_SCALE[m["man_b"]] if extra is not None else value
            found.append(
                MoneyMention(m.start(), m.end(), text[m.start() : m.end()].strip(), value, _JA_CURRENCY[m["cur"]])
            )
    for m in _EN_MONEY.finditer(folded):
        if m["sign"]:
            value = _number(m["num"])
            scale = (m["scale"] or "").lower()
            currency = _CURRENCY_SIGNS[m["sign"]]
        else:
            value = _number(m["num2"])
            scale = (m["scale2"] or "").lower()
            currency = _CURRENCY_WORDS[m["cur"].lower()]
        if value is not None and scale:
            value *= _EN_SCALE[scale]
        if any(f.start < m.end() and m.start() < f.end for f in found):
            continue
        found.append(MoneyMention(m.start(), m.end(), text[m.start() : m.end()].strip(), value, currency))
    return sorted(found, key=lambda f: f.start)


@dataclass(frozen=True)
class MoneyTerms:
    """An amount with the terms said with it: its period (a month, a year, once) and the unit it is per."""

    money: MoneyMention
    period: Literal["month", "year", "once"] | None
    per: str | None


def money_terms(text: str, lang: Lang) -> list[MoneyTerms]:
    """Each amount in ``text`` with its own period and unit.

    A sentence with several amounts states terms for each ("$45 per seat per month, so about $1350 a month for 30
    seats"; 月額1ユーザー4,500円、30ユーザーで月13万5千円): the text is cut between consecutive amounts at the first
    clause break, and each amount takes the period and unit said in its own part only. Amounts with no break
    between them ("$45 or $50 per seat", 月額30万円を25万円に) share one part.
    """
    folded = fold_width(text)
    found = find_money(text, lang)
    cuts = [0]
    for left, right in zip(found, found[1:], strict=False):
        brk = _CLAUSE_BREAK[lang].search(folded, left.end, right.start)
        if brk is not None:
            cuts.append(brk.start())
    cuts.append(len(folded))
    out: list[MoneyTerms] = []
    for money in found:
        k = max(i for i, cut in enumerate(cuts[:-1]) if cut <= money.start)
        part = folded[cuts[k] : cuts[k + 1]]
        per = PER_UNIT[lang].search(part)
        unit = (per["unit"] or per.groupdict().get("unit1") or "").lower() if per else None
        out.append(MoneyTerms(money=money, period=find_period(part, lang), per=unit))
    return out


def find_period(text: str, lang: Lang) -> Literal["month", "year", "once"] | None:
    """The billing period ``text`` names (per month, per year, one-off), or None when it names none."""
    for pattern, period in PERIOD[lang]:
        if pattern.search(text):
            return period
    return None
