# Shared settings of the local scripts. Source it; it changes nothing but variables.
# The only differences from AWS: the endpoint and dummy credentials.
ERRATA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ERRATA_STATE="$ERRATA_ROOT/.errata"
export ERRATA_PORT="${ERRATA_PORT:-4566}"
export ERRATA_EMULATOR="${ERRATA_EMULATOR:-ministack}"   # or: localstack (Docker)
export ERRATA_STACK="${ERRATA_STACK:-errata}"
export AWS_ENDPOINT_URL="http://localhost:$ERRATA_PORT"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_DEFAULT_REGION="$AWS_REGION"
export CDK_DEFAULT_ACCOUNT=000000000000
export CDK_DEFAULT_REGION="$AWS_REGION"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/errata-target}"
VENV="$ERRATA_ROOT/localstack/.venv"
mkdir -p "$ERRATA_STATE"
