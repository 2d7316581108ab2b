"""Two longer sales calls (about three minutes each) with known facts, for checking the minutes end to end.

They are rendered like the demo samples (``insight.demo.samples.synthesize``) but are not part of ``samples.SCRIPTS``:
the demo uploads those on every start, and three-minute calls would make it slow. Render them on demand with
``insight samples --minutes`` or from a test.

What the minutes must find (the call is dated Wednesday 2026-11-25 in the tests, so relative dates resolve to the
days in brackets):

================  =======================================================  =========================================
fact              Japanese call                                            English call
================  =======================================================  =========================================
budget            年間400万円 (customer's budget); price 毎月30万円        $50,000 a year (budget); $45 per seat
                                                                           per month (price)
competitor        サイボウズ (the customer's current tool)                 Salesforce (the customer's current tool)
decision maker    営業部長の鈴木 (decides)                                 Maria Lopez, Vice President of Sales
next action 1     rep: 見積もりを送る, 来週の金曜日 [2026-12-04]           rep: send the proposal, next Friday
                                                                           [2026-12-04]
next action 2     customer: 社内の承認を取る, 月末 [2026-11-30]            customer: return the security
                                                                           questionnaire, end of the month
                                                                           [2026-11-30]
decision          二週間の無料トライアルから始める                          start with a two week pilot
timeline          導入は来年の四月 [2027-04]                               roll out in January [2027-01]
================  =======================================================  =========================================

The wording was chosen so that Whisper base transcribes the facts from these synthetic voices (it hears
セールスフォース as セイルスフォース and "HubSpot" as "hub part"); the minutes must survive the rest of its errors.
The people's names are ones it hears under every CTranslate2 back end and at espeak-ng speeds from 150 to 180 words
a minute (``bench/backends.py``): "Alex Morgan" came out as "Aliq's Morgan" or "Alex Morden" on some back ends, and
"Hi Jordan" as "Hi, Gordon" when spoken faster.
"""

from __future__ import annotations

from insight.demo.samples import Script, Turn

_R, _C = "rep", "customer"
# The English customer speaks with the sample set's third voice (espeak-ng "en-us+m7", on the customer's channel):
# Whisper base transcribes the default customer voice ("en+f3") too poorly for the facts to survive.
_CE = "manager"


def _turns(*pairs: tuple[str, str]) -> tuple[Turn, ...]:
    return tuple(Turn(speaker, text) for speaker, text in pairs)


JA_SALES_CALL = Script(
    key="ja_minutes_call",
    language="ja",
    title="商談: 営業支援ツールの導入検討（東西物産）",
    turns=_turns(
        (
            _R,
            "お世話になっております。株式会社クラウドリンクの佐藤です。本日はお時間をいただき、ありがとうございます。",
        ),
        (_C, "こちらこそ、よろしくお願いします。東西物産、営業企画部の山田です。"),
        (_R, "本日は三十分ほどお時間をいただいておりますが、よろしいでしょうか。"),
        (_C, "はい、大丈夫です。以前にも別のツールを試したことがあるんですが、定着しませんでした。"),
        (_R, "よくあるお話です。たいていは入力の手間が原因ですね。"),
        (_R, "まず、営業チームは何名くらいいらっしゃいますか。"),
        (_C, "全国で五十名ほどです。東京と大阪に拠点があります。"),
        (_R, "ありがとうございます。現在の営業管理について教えていただけますか。"),
        (
            _C,
            "今はサイボウズを使っています。ただ、入力の手間が多くて、現場の営業がなかなか記録を残してくれないんです。",
        ),
        (_C, "それで、会議で使える数字が集まらないのが一番の課題です。"),
        (_C, "報告書を作るのにも、毎週半日かかっています。"),
        (_R, "なるほど。商談のたびに手で入力するのは、かなりの負担ですよね。"),
        (
            _R,
            "弊社のセールスナビは、商談の録音から議事録と次のアクションを自動で作りますので、"
            "入力の手間をほとんどなくせます。",
        ),
        (_C, "外出先からでも使えますか。"),
        (_R, "はい、スマートフォンで録音するだけで大丈夫です。"),
        (_C, "それはいいですね。今のデータは移行できますか。"),
        (_R, "はい、CSVで取り込めますので、これまでの記録もそのまま使えます。"),
        (_C, "セキュリティの面はどうでしょうか。情報システム部が気にすると思います。"),
        (_R, "データは国内のデータセンターで暗号化して保管しています。"),
        (_C, "それなら安心です。料金はどのくらいになりますか。"),
        (_R, "五十名様でのご利用ですと、料金は毎月三十万円です。"),
        (_C, "正直、少し高いですね。予算は年間で四百万円までなんです。"),
        (_R, "承知しました。年間契約でしたら、お値引きもご相談できます。"),
        (_C, "現場には年配の営業も多いんですが、使いこなせるでしょうか。"),
        (_R, "操作は録音のボタンを押すだけですので、年配の方にも好評です。サポートには専任の担当者が付きます。"),
        (_C, "他の会社では、どのような効果が出ていますか。"),
        (_R, "ある製造業のお客様では、報告書を作る時間が半分になりました。"),
        (_C, "それは魅力的ですね。導入には、どのくらいの期間がかかりますか。"),
        (_R, "通常は二週間ほどで、現場で使い始めていただけます。"),
        (_C, "導入は来年の四月を予定しています。最終的な判断は、営業部長の鈴木がします。"),
        (_R, "ありがとうございます。鈴木部長にも、ぜひご覧いただきたいです。"),
        (_C, "では、まずは二週間の無料トライアルから始めることにしましょう。"),
        (_R, "ありがとうございます。来週の金曜日までに、お見積もりをお送りします。"),
        (_C, "私のほうで、月末までに社内の承認を取っておきます。"),
        (_R, "よろしくお願いいたします。何かあれば、いつでもご連絡ください。"),
        (_C, "はい、ありがとうございました。"),
    ),
)

EN_SALES_CALL = Script(
    key="en_minutes_call",
    language="en",
    title="Sales call: Brightline for Harbor Logistics",
    turns=_turns(
        (_R, "Hi Emily, this is David Morgan from Brightline. Thanks for making time today."),
        (_CE, "Hi David. Happy to chat. I run sales operations here at Harbor Logistics."),
        (_R, "We have about thirty minutes today. Does that still work for you?"),
        (_CE, "Yes, that works. We tried a couple of tools before, but none of them stuck."),
        (_R, "That happens a lot, and it is usually about the extra typing. So first, a few questions."),
        (_R, "Great. How big is your sales team?"),
        (_CE, "We have about forty reps across three offices."),
        (_R, "Could you walk me through how your team tracks deals today?"),
        (
            _CE,
            "Today we use Salesforce, but the team hates it. Our reps never type their notes, "
            "so the pipeline is always out of date.",
        ),
        (_CE, "And our forecast meetings turn into guesswork every week."),
        (_CE, "Our managers also spend half a day every week building reports by hand."),
        (_R, "That makes sense. Manual data entry is the biggest reason a pipeline goes stale."),
        (
            _R,
            "Brightline records each call and writes the notes and next steps for the rep, "
            "so nobody has to type anything.",
        ),
        (_CE, "Does it work on the road, from a phone?"),
        (_R, "Yes. The mobile app records the call and uploads it when you hang up."),
        (_CE, "Nice. Can we bring over our existing data?"),
        (_R, "Yes, you can import a spreadsheet export, so your history comes with you."),
        (_CE, "What about security? Our IT team is going to ask."),
        (_R, "All data is encrypted at rest and in transit, and we are audited every year."),
        (_CE, "Good to hear. That sounds useful. How much does it cost?"),
        (_R, "It is forty five dollars per seat per month."),
        (_CE, "Honestly, that is more than we hoped. The budget for this project is fifty thousand dollars a year."),
        (_R, "Understood. With an annual contract we can offer a discount."),
        (_CE, "A lot of our reps are not very technical. Will they manage?"),
        (_R, "There is only one button to press, and every customer gets a dedicated support manager."),
        (_CE, "Do we need to install anything on our laptops?"),
        (_R, "No, it runs in the browser. Our onboarding team also runs a one hour training session for each office."),
        (_CE, "What results have other customers seen?"),
        (_R, "One distribution company cut the time spent on reports in half."),
        (_CE, "That is impressive. How long does the setup take?"),
        (_R, "Most teams are up and running within two weeks."),
        (
            _CE,
            "We would like to roll out in January. Maria Lopez, our Vice President of Sales, makes the final decision.",
        ),
        (_R, "Thank you. Maria will like the forecast view."),
        (_CE, "Let's start with a two week pilot for the inside sales team."),
        (_R, "Great. I will send you the proposal by next Friday."),
        (_CE, "And I will return the security questionnaire by the end of the month."),
        (_R, "Perfect. Let me know if anything comes up in the meantime."),
        (_CE, "Will do. Thanks, David."),
    ),
)

MINUTES_SCRIPTS: tuple[Script, ...] = (JA_SALES_CALL, EN_SALES_CALL)
