#!/usr/bin/env bash
# Seeds the demo organization, project, DSN key, user and API token, and writes
# .errata/local.env. Re-running keeps the same key, token and password.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ERRATA_ROOT"
ENV_FILE="$ERRATA_STATE/local.env"
ADMIN="$CARGO_TARGET_DIR/debug/errata-admin"
ORG="${ERRATA_ORG:-demo}"
PROJECT="${ERRATA_PROJECT:-demo}"
EMAIL="${ERRATA_EMAIL:-demo@errata.local}"

# Earlier secrets survive a redeploy.
prev() { [ -f "$ENV_FILE" ] && sed -n "s/^$1=//p" "$ENV_FILE" | head -1 || true; }
KEY=$(prev KEY); TOKEN=$(prev TOKEN); PASSWORD=$(prev PASSWORD)
[ -n "$KEY" ] || KEY=$("$ADMIN" new-key)
[ -n "$TOKEN" ] || TOKEN=$("$ADMIN" new-token)
[ -n "$PASSWORD" ] || PASSWORD=$(head -c 12 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 16)

eval "$("$VENV/bin/python" localstack/stack.py outputs | grep -E '^(ApiId|IngestUrl|DirectoryTable|WebBucket|AthenaDatabase|AthenaWorkGroup|ProcessorFunction|EventsBucket)=')"
# A fresh stack is set up the way an operator does it: first-run setup with the deploy's secret.
SETUP_SECRET=$("$VENV/bin/python" localstack/stack.py setup-secret)
"$VENV/bin/python" localstack/stack.py first-run "$EMAIL" "$PASSWORD" "$ORG" "$PROJECT"
# Then the demo's own key, token and password are pinned, so they survive a redeploy.
PROJECT_ID=$(DIRECTORY_TABLE="$DirectoryTable" "$ADMIN" seed --org "$ORG" --project "$PROJECT" --email "$EMAIL" \
  --password "$PASSWORD" --public-key "$KEY" --token "$TOKEN" | sed -n 's/^PROJECT_ID=//p')

API_BASE="$AWS_ENDPOINT_URL/_aws/execute-api/$ApiId"
# DSNs point at ingest's function URL, in the emulator's path form (as the API hands them out).
INGEST_URL_ID=$(printf '%s' "$IngestUrl" | sed -E 's#^https?://([^.]+)\..*#\1#')
cat >"$ENV_FILE" <<ENV
DSN=http://$KEY@localhost:$ERRATA_PORT/_aws/lambda-url/$INGEST_URL_ID/$PROJECT_ID
HTTP_API=$API_BASE
API=$API_BASE/api/0/
WEB=$AWS_ENDPOINT_URL/$WebBucket/index.html
ORG=$ORG
PROJECT=$PROJECT
PROJECT_ID=$PROJECT_ID
TOKEN=$TOKEN
LOGIN=$EMAIL
PASSWORD=$PASSWORD
KEY=$KEY
SETUP_SECRET=$SETUP_SECRET
DIRECTORY_TABLE=$DirectoryTable
ATHENA_DATABASE=$AthenaDatabase
ATHENA_WORKGROUP=$AthenaWorkGroup
PROCESSOR_FUNCTION=$ProcessorFunction
EVENTS_BUCKET=$EventsBucket
AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL
ENV
chmod 600 "$ENV_FILE"
echo "ok: $ORG/$PROJECT (project id $PROJECT_ID)"
