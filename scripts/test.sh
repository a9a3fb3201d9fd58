#!/usr/bin/env bash
# `make test`: every test, in layers. Starts what the tests need (the local stack) first.
#   lint   rustfmt and clippy (warnings are errors)
#   rust   unit + handler tests, adapter tests against the emulator's real API
#   infra  CDK synth assertions
#   web    web app unit tests
#   fuzz   every cargo-fuzz target for a bounded time (FUZZ_SECONDS, default 15)
#   e2e    the real SDKs against the deployed local stack
# `scripts/test.sh e2e` runs one layer.
set -euo pipefail
source "$(dirname "$0")/../localstack/env.sh"
cd "$ERRATA_ROOT"
LAYERS="${*:-lint rust infra web fuzz e2e}"
banner() { printf '\n\033[1m== %s ==\033[0m\n' "$1"; }

banner "local stack"
bash localstack/up.sh

for layer in $LAYERS; do
  case "$layer" in
  lint)
    banner "Lint: rustfmt, clippy"
    bash scripts/lint.sh
    ;;
  rust)
    banner "Rust: unit, handler and adapter tests"
    cargo test --workspace --all-features
    ;;
  infra)
    banner "Infra: CDK synth tests, cfn-lint, checkov, Terraform parse and parity"
    bash infra/cdk/install.sh
    (cd infra/cdk && npm test)
    # cfn-lint on the synthesized template, from a pinned venv. W3005 (a DependsOn that a GetAtt
    # already implies) is how CDK writes Lambda roles, not a fault.
    if ! cmp -s infra/requirements.txt infra/.venv/.errata-installed 2>/dev/null; then
      python3 -m venv infra/.venv
      infra/.venv/bin/pip install -q -r infra/requirements.txt
      cp infra/requirements.txt infra/.venv/.errata-installed
    fi
    mkdir -p .errata
    (cd infra/cdk && npx tsx scripts/template.ts) > .errata/errata.template.json
    infra/.venv/bin/cfn-lint --ignore-checks W3005 -- .errata/errata.template.json
    echo "ok: cfn-lint"
    # checkov: every finding passes or is skipped with its reason in the template's metadata
    # (infra/cdk/lib/checkov.ts). --skip-download: no calls to Prisma Cloud.
    infra/.venv/bin/checkov -f .errata/errata.template.json --framework cloudformation --compact --quiet --skip-download
    echo "ok: checkov (CloudFormation)"
    # Terraform itself is not installed here: its HCL parses, checkov passes, and it declares
    # what the CDK template declares.
    infra/.venv/bin/python -c 'import glob, hcl2, sys; fs = sorted(glob.glob("infra/terraform/**/*.tf", recursive=True)); [hcl2.load(open(f)) for f in fs]; print(f"ok: {len(fs)} Terraform files parse")'
    infra/.venv/bin/checkov -d infra/terraform --framework terraform --compact --quiet --skip-download
    echo "ok: checkov (Terraform)"
    infra/.venv/bin/python infra/terraform/tests/parity.py .errata/errata.template.json infra/terraform
    ;;
  web)
    banner "Web: unit tests"
    bash web/build.sh >/dev/null
    (cd web && npm test)
    ;;
  fuzz)
    banner "Fuzz: bounded runs of every target"
    bash scripts/fuzz.sh
    ;;
  e2e)
    banner "End-to-end: real sentry-sdk against the local stack"
    bash tests/install.sh
    tests/.venv/bin/python -m pytest tests/e2e -v -p no:cacheprovider
    ;;
  *) echo "unknown test layer: $layer" >&2; exit 2 ;;
  esac
done
