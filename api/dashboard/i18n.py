"""UI strings in Japanese and English; the language comes from ?lang= or Accept-Language."""

from __future__ import annotations

from fastapi import Request

STRINGS: dict[str, dict[str, str]] = {
    "ja": {
        "title": "insight 商談インサイト",
        "calls": "商談一覧",
        "upload": "録音をアップロード",
        "upload_button": "アップロード",
        "file": "録音ファイル",
        "customer": "顧客ID",
        "deal": "商談ID",
        "language": "言語",
        "auto": "自動判定",
        "rep_channel": "営業担当のチャンネル（ステレオ）",
        "none": "なし",
        "left": "左",
        "right": "右",
        "status": "状態",
        "progress": "進捗",
        "duration": "長さ",
        "created": "登録日時",
        "transcript": "文字起こし",
        "speaker": "話者",
        "time": "時刻",
        "text": "発言",
        "no_calls": "まだ商談がありません。録音をアップロードしてください。",
        "no_transcript": "文字起こしはまだありません。",
        "error": "エラー",
        "retry": "再実行",
        "queued": "待機中",
        "processing": "処理中",
        "done": "完了",
        "failed": "失敗",
        "back": "一覧へ戻る",
        "api": "API ドキュメント",
    },
    "en": {
        "title": "insight conversation insight",
        "calls": "Calls",
        "upload": "Upload a recording",
        "upload_button": "Upload",
        "file": "Recording",
        "customer": "Customer ID",
        "deal": "Deal ID",
        "language": "Language",
        "auto": "Detect",
        "rep_channel": "Rep's channel (stereo)",
        "none": "None",
        "left": "Left",
        "right": "Right",
        "status": "Status",
        "progress": "Progress",
        "duration": "Length",
        "created": "Uploaded",
        "transcript": "Transcript",
        "speaker": "Speaker",
        "time": "Time",
        "text": "Text",
        "no_calls": "No calls yet. Upload a recording to start.",
        "no_transcript": "No transcript yet.",
        "error": "Error",
        "retry": "Retry",
        "queued": "Queued",
        "processing": "Processing",
        "done": "Done",
        "failed": "Failed",
        "back": "Back to calls",
        "api": "API docs",
    },
}


def pick_language(request: Request) -> str:
    requested = request.query_params.get("lang")
    if requested in STRINGS:
        return requested
    accept = request.headers.get("accept-language", "").lower()
    for part in accept.split(","):
        code = part.split(";")[0].strip()[:2]
        if code in STRINGS:
            return code
    return "ja"
