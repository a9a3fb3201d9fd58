"""The cost model on a small run (`scripts/cost.py`, what `make cost` runs): the functions'
meter lines are found and priced for every part of the path an event takes — API Gateway and
SQS for ingest (its binary under the Lambda harness), DynamoDB, S3 and SQS for the processor —
and the idle month is priced from the compaction's own run."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "errata-target"))


def test_a_measured_run_is_priced_per_component(stack):
    subprocess.run(["cargo", "build", "-q", "--release", "-p", "errata-load"], cwd=ROOT, check=True)
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "cost.py"), "300", "8"], cwd=ROOT,
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    result = json.loads((ROOT / ".errata" / "cost.json").read_text())
    assert 250 <= result["accepted"] <= 300, result
    ingest, processor = result["per_million"]["ingest"], result["per_million"]["processor"]
    # API Gateway: a dollar per million requests, and a few invalid ones on top.
    assert 1.0 <= ingest["API Gateway"] < 1.2, ingest
    # One SendMessage per envelope, from ingest's own meter line under the harness.
    assert 0.4 <= ingest["SQS"] < 1.0, ingest
    for service in ("DynamoDB", "S3", "SQS", "Lambda"):
        assert processor.get(service, 0) > 0, (service, processor)
    assert 0.5 < result["total"] < 100, result
    # DynamoDB's own capacity reports, index writes included: an event's index entry is 2 units
    # in its transaction and 1 in `by-issue`, its issue's count at least 2 more.
    assert 5 <= result["processor_dynamodb_units_per_event"] < 30, result
    assert "per event, as measured" in out.stdout and "idle, per month" in out.stdout, out.stdout
    idle = result["idle_month"]
    assert 0 < idle["Lambda: hourly compaction"] < 0.01, idle
