#!/usr/bin/env bash
# `make up`: the whole stack on this machine, no Docker needed. Idempotent: run it again to
# redeploy changed code; an already running emulator keeps its data.
#   1 Python venv with the pinned emulator   4 CDK toolkit (npm ci)
#   2 emulator started and healthy           5 cdk bootstrap + deploy of the real stack
#   3 Lambda binaries built                  6 what CloudFormation ignores, web app upload
#   7 demo org/project/key/user/token seeded; DSN, API, WEB… printed and saved
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ERRATA_ROOT"
T0=$(date +%s)
step() { printf '\n\033[1m[%s/7] %s\033[0m\n' "$1" "$2"; }

step 1 "Python tools for the local AWS ($ERRATA_EMULATOR)"
if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
if ! cmp -s localstack/requirements.txt "$VENV/.installed" 2>/dev/null; then
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r localstack/requirements.txt
  cp localstack/requirements.txt "$VENV/.installed"
fi
echo "ok: $("$VENV/bin/pip" show ministack 2>/dev/null | grep ^Version || true)"

step 2 "Local AWS on port $ERRATA_PORT"
bash localstack/emulator.sh start

step 3 "Lambda binaries (cargo build; host architecture)"
bash localstack/build.sh

step 4 "CDK toolkit"
bash infra/cdk/install.sh
echo "ok: aws-cdk $(cd infra/cdk && npx cdk --version 2>/dev/null | cut -d' ' -f1)"

step 5 "cdk deploy (stack '$ERRATA_STACK')"
ARCH=$(uname -m); case "$ARCH" in aarch64|arm64) ARCH=arm64 ;; *) ARCH=x86_64 ;; esac
# deployWeb=false: post-deploy (stack.py) uploads the web app and its local config.json itself.
# Webhooks: the end-to-end tests' receivers listen on http://127.0.0.2, and 127.0.0.1 stays refused.
CONTEXT=(-c arch="$ARCH" -c lambdaDir="$ERRATA_STATE/lambda" -c stackName="$ERRATA_STACK" -c destroyData=true -c deployWeb=false -c webhookAllowHttp=true -c webhookAllowedNetworks=127.0.0.2/32)
# LocalStack's community edition has no CloudFront: the distribution is left out there.
[ "$ERRATA_EMULATOR" = localstack ] && CONTEXT+=(-c cdn=false)
(
  cd infra/cdk
  if ! "$VENV/bin/python" "$ERRATA_ROOT/localstack/stack.py" has-stack CDKToolkit; then
    npx cdk bootstrap "aws://$CDK_DEFAULT_ACCOUNT/$AWS_REGION" "${CONTEXT[@]}" >"$ERRATA_STATE/cdk-bootstrap.log" 2>&1 \
      || { tail -30 "$ERRATA_STATE/cdk-bootstrap.log"; exit 1; }
    echo "bootstrapped"
  fi
  npx cdk deploy "$ERRATA_STACK" --require-approval never --method direct --progress events "${CONTEXT[@]}" \
    --outputs-file "$ERRATA_STATE/outputs.json" >"$ERRATA_STATE/cdk-deploy.log" 2>&1 \
    || { tail -40 "$ERRATA_STATE/cdk-deploy.log"; exit 1; }
  grep -E "no changes|deployed|✅" "$ERRATA_STATE/cdk-deploy.log" | head -3 || true
)

step 6 "Post-deploy: DynamoDB TTL, API CORS, web app"
bash web/build.sh
"$VENV/bin/python" localstack/stack.py post-deploy

step 7 "Demo data"
bash localstack/seed.sh

printf '\nErrata is up (%ss). Settings saved to .errata/local.env:\n\n' $(( $(date +%s) - T0 ))
cat "$ERRATA_STATE/local.env"
