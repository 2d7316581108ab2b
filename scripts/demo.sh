#!/usr/bin/env bash
# Start insight on the embedded default (SQLite + embedded queue), upload sample calls, print one transcript.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export INSIGHT_DATA_DIR="${INSIGHT_DATA_DIR:-.insight}"
PORT="${INSIGHT_PORT:-8000}"
URL="http://127.0.0.1:${PORT}"
mkdir -p "$INSIGHT_DATA_DIR"

healthy() { "$BIN/python" -c "import httpx,sys; sys.exit(0 if httpx.get('$URL/healthz', timeout=2).status_code == 200 else 1)" 2>/dev/null; }

echo "== Synthesising sample sales calls (offline)"
"$BIN/insight" samples "$INSIGHT_DATA_DIR/samples"

if healthy; then
  echo "== insight is already running on $URL"
else
  echo "== Starting insight on $URL (log: $INSIGHT_DATA_DIR/server.log)"
  nohup "$BIN/insight" serve --port "$PORT" >"$INSIGHT_DATA_DIR/server.log" 2>&1 &
  echo $! >"$INSIGHT_DATA_DIR/server.pid"
  for _ in $(seq 1 120); do healthy && break; sleep 0.5; done
  healthy || { echo "insight did not start; see $INSIGHT_DATA_DIR/server.log" >&2; tail -n 30 "$INSIGHT_DATA_DIR/server.log" >&2; exit 1; }
fi

# A demo admin (password below) and an API token for the CLI uploads; both are created once and reused.
DEMO_EMAIL="${INSIGHT_DEMO_EMAIL:-demo@example.com}"
DEMO_PASSWORD="${INSIGHT_DEMO_PASSWORD:-insight-demo-password}"
echo "== Demo account $DEMO_EMAIL (admin)"
printf '%s\n' "$DEMO_PASSWORD" | "$BIN/insight" users create "$DEMO_EMAIL" --role admin --team demo --password-stdin --if-missing
TOKEN_FILE="$INSIGHT_DATA_DIR/demo.token"
if [ ! -s "$TOKEN_FILE" ]; then
  ( umask 077; "$BIN/insight" tokens create "$DEMO_EMAIL" --name demo --scopes calls:read,calls:write --days 30 --json \
      | "$BIN/python" -c "import json,sys; print(json.load(sys.stdin)['token'])" >"$TOKEN_FILE" )
fi
INSIGHT_TOKEN="$(cat "$TOKEN_FILE")"
export INSIGHT_TOKEN

echo "== Uploading the synthesised calls (stereo: rep on the left channel)"
mapfile -t samples < <(ls "$INSIGHT_DATA_DIR"/samples/*.stereo.wav)
"$BIN/insight" upload --server "$URL" --rep-channel left --wait --show "${samples[@]}"

shared_audio=../shared/data/audio
if [ -d "$shared_audio" ]; then
  echo "== Uploading the real recordings in $shared_audio"
  mapfile -t real < <(ls "$shared_audio"/en/*.wav "$shared_audio"/en/*.flac "$shared_audio"/ja/*.wav 2>/dev/null)
  "$BIN/insight" upload --server "$URL" --wait "${real[@]}"
fi

cat <<MSG

insight is running: open $URL/ and sign in as $DEMO_EMAIL / $DEMO_PASSWORD
  API docs: $URL/docs        API token for the CLI: $TOKEN_FILE (export INSIGHT_TOKEN=\$(cat $TOKEN_FILE))
  stop it with: make stop
MSG
