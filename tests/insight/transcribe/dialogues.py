"""Three-party test dialogues (rep, customer and the customer's manager), rendered by ``insight.demo.samples``."""

from __future__ import annotations

from insight.demo.samples import Script, Turn

JA_THREE = Script(
    key="ja_three_party",
    language="ja",
    title="三者商談（部長同席）",
    turns=(
        Turn("rep", "本日はお時間をいただきありがとうございます。クラウドリンクの佐藤です。"),
        Turn("customer", "山田です。今日は部長の鈴木も同席します。"),
        Turn("manager", "鈴木です。よろしくお願いします。費用感を中心に伺いたいと思っています。"),
        Turn("rep", "承知しました。まず現在の営業管理の課題を教えていただけますか。"),
        Turn("customer", "入力の手間が多くて、現場の営業がなかなか記録を残してくれないんです。"),
        Turn("manager", "結果として、会議で使える数字が集まらないのが一番の問題ですね。"),
        Turn("rep", "弊社のサービスは通話から記録を自動で作りますので、入力の手間はほとんどなくなります。"),
        Turn("manager", "それは助かります。導入までどのくらいの期間がかかりますか。"),
        Turn("rep", "通常は二週間ほどで使い始めていただけます。"),
        Turn("customer", "では、来週の会議で社内に共有してみます。"),
    ),
)

EN_THREE = Script(
    key="en_three_party",
    language="en",
    title="Three-party call with the customer's manager",
    turns=(
        Turn("rep", "Thanks for joining today. This is Alex from Brightline."),
        Turn("customer", "Hi Alex, Jordan here. I brought my manager, Priya, along."),
        Turn("manager", "Hello. I mostly want to understand the cost and the rollout plan."),
        Turn("rep", "Of course. Could you tell me how your team tracks deals today?"),
        Turn("customer", "We use spreadsheets, and half the team never updates them."),
        Turn("manager", "Which means our forecast meetings are mostly guesswork."),
        Turn("rep", "Brightline logs every call automatically, so nobody has to type anything."),
        Turn("manager", "How long would it take to roll out to forty people?"),
        Turn("rep", "Usually about two weeks from signing."),
        Turn("customer", "Great, I will share this with the team next week."),
    ),
)
