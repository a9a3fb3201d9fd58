"""Faults on the local stack, with the real processor: S3 and DynamoDB failing 30 % of the
processor's calls for a while (before the write, or after it with the answer lost — the
fault-injecting wrappers a function uses only when its configuration sets ERRATA_FAULTS), the
processor killed mid-batch again and again, and a poison message. Afterwards nothing valid is
lost, nothing is counted twice (messages that used up their receives come back with the
documented redrive, `scripts/redrive.py`), and the poison sits in the envelope DLQ with its
reason."""

import collections
import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import boto3
import requests

from helpers import auth_header, ingest_url, new_tag

ROOT = Path(__file__).resolve().parents[2]
GROUPS, PER_GROUP = 6, 10


def outputs():
    """The deployed stack's outputs (`cdk deploy --outputs-file`: by stack name)."""
    [stack] = json.loads((ROOT / ".errata" / "outputs.json").read_text()).values()
    return stack


def client(stack, service):
    return boto3.client(service, endpoint_url=stack["AWS_ENDPOINT_URL"], region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def envelope(tag, group, n):
    event_id = uuid.uuid4().hex
    event = {"event_id": event_id, "platform": "python", "level": "error", "release": f"faults@{tag}",
             "exception": {"values": [{"type": f"Fault{tag}E{group}", "value": f"event {n}",
                                       "stacktrace": {"frames": [{"function": f"g{group}", "filename": "f.py", "lineno": 1}]}}]}}
    payload = json.dumps(event).encode()
    return json.dumps({"event_id": event_id}).encode() + b"\n" + json.dumps({"type": "event", "length": len(payload)}).encode() + b"\n" + payload


def counts(api, stack, tag):
    resp = api.get(f"projects/{stack['ORG']}/{stack['PROJECT']}/issues/", query=f"release:faults@{tag}", limit=100)
    if resp.status_code != 200:
        return {}
    return {i["metadata"].get("type"): int(i["count"]) for i in resp.json()}


def set_processor_env(lam, name, faults, lease=None):
    """Faults on or off; `lease`: how long a batch may run before a redelivery of its events
    takes it for dead and counts them (the processor's timeout on AWS)."""
    env = lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    if faults:
        env["ERRATA_FAULTS"] = faults
    else:
        env.pop("ERRATA_FAULTS", None)
    if lease is not None:
        env["WRITER_LEASE_SECONDS"] = str(lease)
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": env})
    return env


def kill_processors(function_name):
    """Kills the running processes of the processor function (the emulator starts new ones):
    those whose environment names it, as the Lambda runtime sets it."""
    killed = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"AWS_LAMBDA_FUNCTION_NAME={function_name}".encode() in environ:
            subprocess.run(["kill", "-9", proc.name], check=False)
            killed += 1
    return killed


def settle(api, stack, tag, expected, timeout=240):
    """The run's counts once they are as expected, or once they have not changed for 30 s
    (and at least a minute has passed: retries after faults take a while)."""
    started = time.monotonic()
    last, since = None, started
    while time.monotonic() < started + timeout:
        seen = counts(api, stack, tag)
        if seen == expected:
            return seen
        now = time.monotonic()
        if seen != last:
            last, since = seen, now
        elif now - since > 30 and now - started > 60:
            return seen
        time.sleep(3)
    return last


def test_faults_lose_nothing_and_count_nothing_twice(stack, api):
    tag = new_tag()
    lam, sqs = client(stack, "lambda"), client(stack, "sqs")
    out = outputs()
    processor = out["ProcessorFunction"]
    queue, dlq = out["EnvelopeQueueUrl"], out["EnvelopeDlqUrl"]
    visibility = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["VisibilityTimeout"])["Attributes"]["VisibilityTimeout"]
    # Redeliveries after 5 s rather than minutes, for the test's sake.
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"VisibilityTimeout": "5"})
    log = ROOT / ".errata" / "ministack.log"  # where the emulator writes the functions' logs
    log_start = log.stat().st_size
    lease = lam.get_function_configuration(FunctionName=processor)["Environment"]["Variables"]["WRITER_LEASE_SECONDS"]
    # Batches here take about a second: a killed one is recounted after 3 × 3 s, not 3 × 30 s,
    # so its events come back within their five receives.
    set_processor_env(lam, processor, "blobs=0.3,issues=0.3,for=45", lease=3)
    try:
        url = ingest_url(stack, "envelope")
        kills = 0
        for n in range(GROUPS * PER_GROUP):
            resp = requests.post(url, data=envelope(tag, n % GROUPS, n), headers=auth_header(stack["KEY"]), timeout=30)
            assert resp.status_code == 200, resp.text
            if n % 12 == 6:
                kills += kill_processors(processor)  # mid-batch, while faults are being injected
        poison = f"poison {tag}: not a queued envelope"
        sqs.send_message(QueueUrl=queue, MessageBody=poison)

        expected = {f"Fault{tag}E{g}": PER_GROUP for g in range(GROUPS)}
        seen = settle(api, stack, tag, expected)
        # With the processor killed and failing this often, a message can use up its five
        # receives and land in the DLQ: not lost, and the documented redrive replays it.
        redrive = subprocess.run([sys.executable, str(ROOT / "scripts" / "redrive.py")], capture_output=True, text=True,
                                 env={**os.environ, "AWS_ENDPOINT_URL": stack["AWS_ENDPOINT_URL"], "AWS_ACCESS_KEY_ID": "test",
                                      "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1"})
        assert redrive.returncode == 0, redrive.stderr
        print(f"before the redrive: {seen}; {redrive.stdout}")
        assert "parked with a reason" in redrive.stdout and "not a queued envelope" in redrive.stdout, redrive.stdout
        seen = settle(api, stack, tag, expected)
        assert seen == expected, f"after faults, {kills} kills and a redrive: {seen}"
        with log.open("rb") as f:
            f.seek(log_start)
            written = f.read().decode("utf-8", "replace")
        assert kills > 0, "no processor was running to be killed"
        injected = collections.Counter(re.findall(r"injected fault \(([a-z0-9 ]+, (?:before|after)) the call\)", written))
        print(f"faults injected (as the emulator's log has them): {dict(injected)}")
        assert any(kind.endswith("after") for kind in injected), f"no write lost its answer: {dict(injected)}"
        assert sum(injected.values()) >= 5, f"the faults did happen: {dict(injected)}"
        # Nothing more arrives later (a late redelivery would count twice).
        time.sleep(12)
        assert counts(api, stack, tag) == expected

        parked = []
        for _ in range(30):  # the redrive looked at them: visible again within 10 s
            got = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=1)
            for m in got.get("Messages", []):
                sqs.delete_message(QueueUrl=dlq, ReceiptHandle=m["ReceiptHandle"])
                parked.append(m)
            if any(m["Body"] == poison for m in parked):
                break
        ours = [m for m in parked if m["Body"] == poison]
        assert len(ours) == 1, [m["Body"][:80] for m in parked]
        assert "not a queued envelope" in ours[0]["MessageAttributes"]["errata_reason"]["StringValue"]
        others = [m["Body"][:80] for m in parked if "errata_reason" not in m.get("MessageAttributes", {})]
        assert not others, f"valid work left in the DLQ after the redrive: {others}"
    finally:
        set_processor_env(lam, processor, None, lease=lease)
        sqs.set_queue_attributes(QueueUrl=queue, Attributes={"VisibilityTimeout": visibility})
