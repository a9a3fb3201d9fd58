#!/usr/bin/env bash
# Bugsink, the peer Errata is compared with (`make compare`), set up the way its single-server
# guide does it — PyPI package (pinned), SQLite, gunicorn for the web/ingest process and the
# snappea worker for digesting — minus nginx and TLS. State in .errata/bugsink.
#   scripts/bugsink.sh start   install if needed, start; prints BUGSINK_DSN
#   scripts/bugsink.sh stop
set -euo pipefail
source "$(dirname "$0")/../localstack/env.sh"
HOME_DIR="$ERRATA_STATE/bugsink"
VENV="$HOME_DIR/venv"
PORT="${BUGSINK_PORT:-8123}"
VERSION="2.6.2"
export DJANGO_SETTINGS_MODULE=bugsink_conf PYTHONPATH="$HOME_DIR"

stop() {
  for name in gunicorn snappea; do
    if [ -f "$HOME_DIR/$name.pid" ]; then kill "$(cat "$HOME_DIR/$name.pid")" 2>/dev/null || true; rm -f "$HOME_DIR/$name.pid"; fi
  done
}

case "${1:-start}" in
  stop) stop; exit 0 ;;
  start) ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac

mkdir -p "$HOME_DIR"
if [ ! -x "$VENV/bin/gunicorn" ] || ! "$VENV/bin/pip" show bugsink 2>/dev/null | grep -q "^Version: $VERSION$"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "bugsink==$VERSION"
fi
cd "$HOME_DIR"
if [ ! -f bugsink_conf.py ]; then
  "$VENV/bin/bugsink-create-conf" --template=singleserver --host=localhost --port="$PORT" --base-dir="$HOME_DIR/data" >/dev/null
  # Plain HTTP on localhost: no TLS proxy in front.
  sed -i "s#\"BASE_URL\": \"https://localhost\"#\"BASE_URL\": \"http://localhost:$PORT\"#; s#^SESSION_COOKIE_SECURE = True#SESSION_COOKIE_SECURE = False#; s#^CSRF_COOKIE_SECURE = True#CSRF_COOKIE_SECURE = False#" bugsink_conf.py
  # A load test must not hit Bugsink's default quotas (1,000 events per 5 minutes) or its
  # per-project retention (10,000 events): raised, as its settings document.
  cat >>bugsink_conf.py <<'PY'
for _limit in ("MAX_EVENTS_PER_PROJECT_PER_5_MINUTES", "MAX_EVENTS_PER_PROJECT_PER_HOUR", "MAX_EVENTS_PER_5_MINUTES",
               "MAX_EVENTS_PER_HOUR", "MAX_EVENTS_PER_PROJECT_PER_MONTH", "MAX_EVENTS_PER_MONTH"):
    BUGSINK[_limit] = 100_000_000
PY
  mkdir -p data/snappea/wakeup data/ingestion
  "$VENV/bin/bugsink-manage" migrate -v 0
  "$VENV/bin/bugsink-manage" migrate snappea --database=snappea -v 0
  DJANGO_SUPERUSER_PASSWORD=admin "$VENV/bin/bugsink-manage" createsuperuser --noinput --username admin --email admin@example.test >/dev/null
fi
# The compared project (created once), its DSN.
DSN=$("$VENV/bin/bugsink-manage" shell -c "
from projects.models import Project
from teams.models import Team
team, _ = Team.objects.get_or_create(name='load')
project = Project.objects.filter(name='load').first() or Project.objects.create(name='load', team=team, retention_max_event_count=10_000_000)
print(project.dsn)
" | tail -1)
stop
nohup "$VENV/bin/gunicorn" --bind "127.0.0.1:$PORT" --workers 4 --pid "$HOME_DIR/gunicorn.pid" --daemon \
  --error-logfile "$HOME_DIR/gunicorn.log" bugsink.wsgi
nohup "$VENV/bin/bugsink-runsnappea" >"$HOME_DIR/snappea.log" 2>&1 &
echo $! >"$HOME_DIR/snappea.pid"
for _ in $(seq 1 50); do curl -fs -o /dev/null "http://localhost:$PORT/" && break; sleep 0.2; done
echo "BUGSINK_DSN=$DSN"
