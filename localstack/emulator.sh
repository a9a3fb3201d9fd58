#!/usr/bin/env bash
# Starts or stops the local AWS emulator: MiniStack as a local process (default), or
# LocalStack in Docker with ERRATA_EMULATOR=localstack.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ERRATA_ROOT"
PIDFILE="$ERRATA_STATE/ministack.pid"

healthy() { curl -sf "$AWS_ENDPOINT_URL/_ministack/health" >/dev/null 2>&1 || curl -sf "$AWS_ENDPOINT_URL/_localstack/health" >/dev/null 2>&1; }

case "${1:-start}" in
start)
  if healthy; then echo "ok: already running at $AWS_ENDPOINT_URL"; exit 0; fi
  if [ "$ERRATA_EMULATOR" = localstack ]; then
    docker compose -f localstack/docker-compose.yml up -d
  else
    # AWS_ENDPOINT_URL here is handed to every Lambda process the emulator starts, so the
    # functions' SDKs reach the emulator; the deployed template is the one AWS gets.
    AWS_ENDPOINT_URL="http://127.0.0.1:$ERRATA_PORT" GATEWAY_PORT="$ERRATA_PORT" \
      nohup "$VENV/bin/python" localstack/ministack_main.py >"$ERRATA_STATE/ministack.log" 2>&1 &
    echo $! >"$PIDFILE"
  fi
  for _ in $(seq 1 120); do healthy && { echo "ok: started at $AWS_ENDPOINT_URL"; exit 0; }; sleep 0.5; done
  echo "the emulator did not become healthy; log:" >&2
  tail -30 "$ERRATA_STATE/ministack.log" >&2 || true
  exit 1
  ;;
stop)
  if [ "$ERRATA_EMULATOR" = localstack ]; then docker compose -f localstack/docker-compose.yml down; exit 0; fi
  if [ -f "$PIDFILE" ] && kill "$(cat "$PIDFILE")" 2>/dev/null; then
    for _ in $(seq 1 20); do kill -0 "$(cat "$PIDFILE")" 2>/dev/null || break; sleep 0.25; done
  fi
  rm -f "$PIDFILE"
  # Lambda processes the emulator started, if any outlived it.
  pkill -f "$ERRATA_STATE/lambda/" 2>/dev/null || true
  pkill -f "ministack-provided-code-$ERRATA_PORT" 2>/dev/null || true
  echo "stopped"
  ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
