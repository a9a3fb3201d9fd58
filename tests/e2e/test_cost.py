"""The cost model on a small run (`scripts/cost.py`, what `make cost` runs): the functions'
meter lines are found and priced for every part of the path an event takes — Lambda and SQS for
ingest (its binary under the Lambda harness; DSNs on its function URL, no API Gateway charge),
DynamoDB, S3 and SQS for the processor (its binary under the harness, in batches of its deployed
size) — and the idle month is priced from the compaction's own run."""

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
    # DSNs on ingest's function URL: no request charge, only the invocation's.
    assert "API Gateway" not in ingest and 0.2 <= ingest["Lambda"] < 1.0, ingest
    # One SendMessage per envelope, from ingest's own meter line under the harness.
    assert 0.4 <= ingest["SQS"] < 1.0, ingest
    for service in ("DynamoDB", "S3", "SQS", "Lambda"):
        assert processor.get(service, 0) > 0, (service, processor)
    assert 0.5 < result["total"] < 100, result
    # DynamoDB's own capacity reports, index writes included: an event's index entry is at
    # least 1 unit and 1 in `by-issue`, its issue's count (this mix: one per event) 1 more.
    assert 3 <= result["processor_dynamodb_units_per_event"] < 30, result
    # The processor ran at its deployed batch size (100), not the emulator's 10.
    assert result["processor_events_per_batch"] > 50, result
    assert "per event, as measured" in out.stdout and "idle, per month" in out.stdout, out.stdout
    idle = result["idle_month"]
    assert 0 < idle["Lambda: hourly compaction"] < 0.01, idle
