"""What a million events cost on AWS at list prices, from a run measured on the local stack.

The load driver (`errata-load`, the mix of `make load`) first sends WARMUP_EVENTS envelopes,
each opening a new issue (and sending its alert e-mail): what new issues cost. A group's events
of three sizes carry stack traces of three lengths, so a group is up to three issues: a second,
unpriced pass of EVENTS envelopes opens the rest. Then EVENTS more go into the same issues: a
steady stream of errors, the case the goal is about. Once every acknowledged event is
counted, the processor's hourly compaction runs, and then runs again with nothing to do (what
an idle hour costs). Each invocation logs what it asked of AWS (`errata_aws::meter`: every
request attempt by service and operation, with request and response sizes); the emulator
discards the output of the functions it runs for API Gateway, so ingest is measured the same
way under `lambda_harness`, configured as deployed and talking to the emulator. The emulator
also delivers SQS batches of at most 10 messages: the measured run's envelopes wait in the
queue, trigger off, and the processor takes them under the harness in batches of its deployed
BatchSize. Priced:

- API Gateway: every HTTP request sent (invalid ones and retries included);
- Lambda: invocations, and durations modeled for AWS (CPU_MS_PER_EVENT from the in-process
  benchmarks plus every AWS request at AWS_MS, one after the other, or in rounds where the code
  sends them several at a time: CONCURRENT) × configured memory;
  the emulator's own timings are printed beside, as an upper bound;
- SQS: the functions' requests per 64 KiB chunk, plus the event source mapping's receives and
  deletes (10 messages each);
- DynamoDB: the capacity units DynamoDB reported for each request (`ReturnConsumedCapacity`:
  item sizes, index writes, transactions twice); a write it refused reports none and is
  priced by its request size;
- S3: PUT/LIST-class and GET-class requests, and the bytes kept per event per month;
- CloudWatch Logs: the bytes the functions logged, plus the platform's lines per invocation;
- Athena: a query scanning the Parquet rows of a million events.

Prices are us-east-1 list prices (PRICES; no free tier). The API is priced per request, not
per event: it runs when people read.

    tests/.venv/bin/python scripts/cost.py [EVENTS] [CLIENTS]     (`make cost`, after `make up`)
"""

import base64
import json
import math
import os
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path

import boto3
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lambda_harness import Run, template  # noqa: E402
from load_reconcile import ENV, stored_counts  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
STATE = ROOT / ".errata"
LOG = STATE / "ministack.log"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "errata-target"))
MILLION = 1_000_000

PRICES = {
    "apigw_request": 1.00 / MILLION,  # HTTP API, per request of up to 512 KB
    "lambda_request": 0.20 / MILLION,
    "lambda_gb_second": 0.0000133334,  # arm64
    "sqs_request": 0.40 / MILLION,  # standard queue, per 64 KiB chunk
    "dynamodb_wru": 0.625 / MILLION,  # on demand
    "dynamodb_rru": 0.125 / MILLION,
    "dynamodb_gb_month": 0.25,
    "s3_tier1": 5.00 / MILLION,  # PUT, COPY, POST, LIST
    "s3_tier2": 0.40 / MILLION,  # GET and the rest (DELETE is free)
    "s3_gb_month": 0.023,
    "logs_gb": 0.50,  # CloudWatch Logs ingestion, standard class
    "logs_gb_ia": 0.25,  # infrequent access class
    "athena_tb": 5.00,
    "alarm_month": 0.10,
    "ses_email": 0.10 / 1000,
}
# Lambda durations on AWS, modeled: the handler's CPU time per event (in process, `make bench`:
# ingest ≈ 20–200 µs per envelope, processor ≈ 300 µs per event) plus every AWS request it makes,
# one after the other, at typical in-region latencies. The emulator's own timings are printed too.
CPU_MS_PER_EVENT = {"ingest": 0.2, "processor": 0.3, "symbolicator": 1.0, "notifier": 0.1}
AWS_MS = {"dynamodb": 6, "sqs": 8, "s3.put": 30, "s3.get": 15, "sesv2": 40, "athena": 0}
# Requests a function sends several at a time, and how many: the processor writes a batch's
# index entries, then its issues, 16 at once (`AT_ONCE` in shared/aws/src/counting.rs; the
# entries' and users' lookups go with them).
CONCURRENT = {"processor": {"DynamoDB.PutItem": 16, "DynamoDB.UpdateItem": 16, "DynamoDB.GetItem": 16}}
WARMUP_EVENTS = 200
INGEST_SAMPLE = 200
# START, END and REPORT lines Lambda itself writes per invocation.
PLATFORM_LOG_BYTES = 320
# Idle pollers of an SQS event source mapping: long polls of 20 s by about 5 pollers.
IDLE_POLLS_PER_MONTH = 5 * 3 * 60 * 24 * 30
S3_TIER1 = {"PutObject", "CopyObject", "ListObjectsV2", "ListObjects", "CreateMultipartUpload", "UploadPart",
            "CompleteMultipartUpload"}
S3_FREE = {"DeleteObject", "DeleteObjects"}
DYNAMO_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"}
DYNAMO_READS = {"GetItem", "Query", "Scan", "BatchGetItem"}


def aws(service):
    return boto3.client(service, endpoint_url=ENV["AWS_ENDPOINT_URL"], region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def role(function_name):
    """ingest, processor, … from a deployed function's name."""
    for r in ("Ingest", "Processor", "Symbolicator", "Api", "Notifier"):
        if f"Errata{r}Function" in function_name:
            return r.lower()
    return function_name


def run_load(events, clients, tag, name):
    out = STATE / f"cost-{name}.json"
    subprocess.run([str(TARGET / "release" / "errata-load"), ENV["DSN"], "--events", str(events), "--clients",
                    str(clients), "--tag", tag, "--out", str(out)], check=True, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text())


def settle(release, expected, timeout=1800):
    """Waits until the stored issue counts of `release` are `expected` (group → events)."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {ENV['TOKEN']}"
    deadline = time.monotonic() + timeout
    while True:
        stored = stored_counts(session, release)
        if stored == expected:
            return
        if time.monotonic() > deadline:
            sys.exit(f"not settled: {sum(stored.values())} of {sum(expected.values())} events stored")
        time.sleep(5)


def measure_ingest(n, tag):
    """Ingest's AWS requests per accepted envelope: its binary under `lambda_harness`, configured
    as deployed and talking to the emulator, fed `n` envelopes of the load's sizes. (The
    emulator discards the output of functions it runs for API Gateway.)"""
    lam = aws("lambda")
    name = next(f["FunctionName"] for page in lam.get_paginator("list_functions").paginate()
                for f in page["Functions"] if role(f["FunctionName"]) == "ingest")
    config = lam.get_function_configuration(FunctionName=name)
    env = {**config["Environment"]["Variables"], "AWS_LAMBDA_FUNCTION_NAME": config["FunctionName"],
           "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config["MemorySize"]), "AWS_ENDPOINT_URL": ENV["AWS_ENDPOINT_URL"],
           "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "RUST_LOG": "info"}
    payloads = []
    for i in range(n):
        size = 60_000 if i % 20 == 0 else 8_000 if i % 4 == 1 else 1_000
        event_id = uuid.uuid4().hex
        event = {"event_id": event_id, "platform": "python", "level": "error", "release": f"cost@{tag}",
                 "fingerprint": [f"cost-ingest-{tag}"], "extra": {"padding": "x" * size},
                 "exception": {"values": [{"type": f"CostIngest{tag}", "value": "sized"}]}}
        item = json.dumps(event).encode()
        body = json.dumps({"event_id": event_id}).encode() + b"\n" + json.dumps(
            {"type": "event", "length": len(item)}).encode() + b"\n" + item + b"\n"
        path = f"/api/{ENV['PROJECT_ID']}/envelope/"
        payloads.append(json.dumps({
            "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": f"sentry_key={ENV['KEY']}",
            "headers": {"content-type": "application/x-sentry-envelope", "content-length": str(len(body))},
            "requestContext": {"http": {"method": "POST", "path": path, "sourceIp": "127.0.0.1",
                                        "userAgent": "errata-cost"}},
            "body": base64.b64encode(body).decode(), "isBase64Encoded": True}).encode())
    run = Run(TARGET / "debug" / "errata-ingest", env, payloads)
    ok = run.wait(300)
    out, err = run.stop()
    (STATE / "cost-ingest.log").write_text(out)
    statuses = [json.loads(body).get("statusCode") for route, body in run.answers]
    if not ok or statuses.count(200) != n:
        sys.exit(f"ingest harness: answered {ok}, statuses {Counter(statuses)}: {err[-500:]}")
    fn = new_function()
    for raw in out.splitlines():
        add_line(fn, raw)
    fn["logged"] = logged_bytes(out)
    return fn


def logged_bytes(out):
    """What a function's output under the harness would put into CloudWatch Logs."""
    return sum(len(line) + 1 for line in out.splitlines() if line.startswith('{"level"'))


def processor_mapping():
    """The processor function's name and its envelope queue's event source mapping."""
    lam = aws("lambda")
    name = next(f["FunctionName"] for page in lam.get_paginator("list_functions").paginate()
                for f in page["Functions"] if role(f["FunctionName"]) == "processor")
    mapping = next(m for m in lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]
                   if ":sqs:" in m["EventSourceArn"])
    return name, mapping


def set_trigger(mapping, enabled):
    aws("lambda").update_event_source_mapping(UUID=mapping["UUID"], Enabled=enabled)
    time.sleep(3)  # a poll under way finishes


def measure_processor(name, mapping):
    """The processor as deployed: batches of the mapping's BatchSize (the emulator delivers at
    most 10). Its trigger is off while the load runs; the queued envelopes are then received
    here, handed to the processor's binary under `lambda_harness` in SQS events of up to
    BatchSize records (and Lambda's 6 MB), and deleted unless it reported them failed."""
    lam, sqs = aws("lambda"), aws("sqs")
    arn = mapping["EventSourceArn"]
    queue = sqs.get_queue_url(QueueName=arn.rsplit(":", 1)[1])["QueueUrl"]
    batch_size = mapping.get("BatchSize", 10)
    config = lam.get_function_configuration(FunctionName=name)
    env = {**config["Environment"]["Variables"], "AWS_LAMBDA_FUNCTION_NAME": config["FunctionName"],
           "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config["MemorySize"]), "AWS_ENDPOINT_URL": ENV["AWS_ENDPOINT_URL"],
           "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "RUST_LOG": "info"}
    messages, empty = [], 0
    while empty < 3:
        got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=900,
                                  AttributeNames=["All"], WaitTimeSeconds=1).get("Messages", [])
        messages += got
        empty = 0 if got else empty + 1
    batches, batch, size = [], [], 0
    for m in messages:
        body = len(m["Body"]) + 600
        if batch and (len(batch) == batch_size or size + body > 6_000_000):
            batches.append(batch)
            batch, size = [], 0
        batch.append(m)
        size += body
    if batch:
        batches.append(batch)
    payloads = [json.dumps({"Records": [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": m.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
        "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": "us-east-1"} for m in b]}).encode()
        for b in batches]
    run = Run(TARGET / "debug" / "errata-processor", env, payloads)
    ok = run.wait(1800)
    out, err = run.stop()
    (STATE / "cost-processor.log").write_text(out)
    if not ok:
        sys.exit(f"processor harness: {len(run.answers)} of {len(payloads)} batches answered: {err[-500:]}")
    for b, (route, answer) in zip(batches, run.answers):
        failed = {f["itemIdentifier"] for f in json.loads(answer).get("batchItemFailures", [])} \
            if route == "response" else {m["MessageId"] for m in b}
        done = [m for m in b if m["MessageId"] not in failed]
        for i in range(0, len(done), 10):
            sqs.delete_message_batch(QueueUrl=queue, Entries=[
                {"Id": str(j), "ReceiptHandle": m["ReceiptHandle"]} for j, m in enumerate(done[i:i + 10])])
    fn = new_function()
    for raw in out.splitlines():
        add_line(fn, raw)
    # What the event source mapping asks of SQS per batch: receives and deletes of 10 each.
    fn["esm_requests"] = sum(2 * math.ceil(len(b) / 10) for b in batches)
    fn["logged"] = logged_bytes(out)
    print(f"processor: {len(messages)} envelopes in {len(batches)} batches of up to {batch_size} "
          f"(the deployed BatchSize), under the harness")
    return fn


def compact():
    """One run of the hourly compaction, so its requests are counted with the events'."""
    lam = aws("lambda")
    resp = lam.invoke(FunctionName=ENV["PROCESSOR_FUNCTION"], Payload=b'{"compact":{}}')
    if resp.get("FunctionError"):
        sys.exit(f"compaction failed: {resp['Payload'].read()[:500]}")


def memory_mb():
    lam = aws("lambda")
    out = {}
    for page in lam.get_paginator("list_functions").paginate():
        for f in page["Functions"]:
            out[f["FunctionName"]] = f["MemorySize"]
    return out


def new_function():
    return {"invocations": 0, "ms": 0.0, "requests": defaultdict(lambda: defaultdict(int))}


def add_line(fn, raw):
    """Adds one `aws requests` log line to a function's totals; False for other lines."""
    try:
        line = json.loads(raw)
    except ValueError:
        return False
    fields = line.get("fields", {}) if isinstance(line, dict) else {}
    if fields.get("message") != "aws requests":
        return False
    invocations = int(fields.get("invocations", 1))
    fn["invocations"] += invocations
    fn["ms"] += float(fields["elapsed_ms"]) + 0.5 * invocations  # billed per started ms
    for op, tally in json.loads(fields["requests"]).items():
        for k, v in tally.items():
            fn["requests"][op][k] += v
    return True


def read_log(start, end=None):
    """Per function (by name): invocations, handler ms, AWS requests; and the bytes logged."""
    functions = defaultdict(new_function)
    logged = 0
    with LOG.open("rb") as f:
        f.seek(start)
        while end is None or f.tell() < end:
            raw = f.readline()
            if not raw:
                break
            if not raw.startswith(b'{"level"'):
                continue
            logged += len(raw)
            try:
                name = json.loads(raw).get("fields", {}).get("function", "")
            except ValueError:
                continue
            if name:
                add_line(functions[name], raw)
    return functions, logged


def stored_bytes(since):
    """Bytes written to the events bucket since `since`, by kind (Parquet, event bodies, other)."""
    s3 = aws("s3")
    kinds = defaultdict(int)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=ENV["EVENTS_BUCKET"]):
        for obj in page.get("Contents", []):
            if obj["LastModified"] >= since:
                kind = "parquet" if obj["Key"].endswith(".parquet") else obj["Key"].split("/", 1)[0]
                kinds[kind] += obj["Size"]
    return dict(kinds)


def aws_cost(requests):
    """$ of AWS requests (op → tally), by service."""
    cost = defaultdict(float)
    for op, t in requests.items():
        service, name = op.split(".", 1)
        service = service.lower()
        if service == "dynamodb":
            cost["DynamoDB"] += dynamodb_cost(name, t)
        elif service == "sqs":
            cost["SQS"] += t["chunks64"] * PRICES["sqs_request"]
        elif service == "s3":
            if name in S3_TIER1:
                cost["S3"] += t["n"] * PRICES["s3_tier1"]
            elif name not in S3_FREE:
                cost["S3"] += t["n"] * PRICES["s3_tier2"]
        elif service == "sesv2":
            cost["SES"] += t["n"] * PRICES["ses_email"]
    return cost


def dynamodb_cost(name, t):
    """$ of one DynamoDB operation's requests: the capacity units DynamoDB reported (table and
    index writes, transactions twice), plus, for attempts that reported none (a refused
    conditional write or a cancelled transaction, which AWS bills all the same), their request
    size in KiB."""
    writes = name in DYNAMO_WRITES or name == "TransactWriteItems"
    price = PRICES["dynamodb_wru"] if writes else PRICES["dynamodb_rru"]
    unreported = t["n"] - t.get("cu_n", 0)
    estimate = t["kib"] * unreported / max(t["n"], 1) if writes else t["resp4k"] * unreported / max(t["n"], 1)
    if name.startswith("Transact"):
        estimate *= 2
    return (t.get("cu", 0.0) + estimate) * price


def attribute_size(value):
    """DynamoDB's size of an attribute value (low-level form), near enough."""
    (kind, v), = value.items()
    if kind in ("S", "N", "B"):
        return len(v.encode() if isinstance(v, str) else v)
    if kind in ("SS", "NS", "BS"):
        return sum(len(x) for x in v)
    if kind == "M":
        return 3 + sum(len(k) + attribute_size(x) + 1 for k, x in v.items())
    if kind == "L":
        return 3 + sum(attribute_size(x) + 1 for x in v)
    return 1


def issue_item_bytes(release):
    """The average size in bytes of the run's issue items as stored."""
    lam = aws("lambda")
    name = next(f["FunctionName"] for page in lam.get_paginator("list_functions").paginate()
                for f in page["Functions"] if role(f["FunctionName"]) == "processor")
    table_name = lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]["ISSUES_TABLE"]
    sizes = []
    for page in aws("dynamodb").get_paginator("scan").paginate(TableName=table_name):
        for item in page["Items"]:
            if item.get("last_release", {}).get("S") == release:
                sizes.append(sum(len(k) + attribute_size(v) for k, v in item.items()))
    return sum(sizes) / len(sizes) if sizes else 0


def aws_ms(requests, concurrent=None):
    """Milliseconds the requests take on AWS (AWS_MS): one after the other, but those a
    function sends several at a time (`concurrent`: operation → how many) in rounds."""
    total = 0.0
    for op, t in requests.items():
        service, name = op.split(".", 1)
        service = service.lower()
        if service == "s3":
            key = "s3.put" if name in S3_TIER1 else "s3.get"
        else:
            key = service
        total += t["n"] * AWS_MS.get(key, 10) / (concurrent or {}).get(op, 1)
    return total


def lambda_cost(r, fn, memory, events):
    """$ of a function's invocations: modeled for AWS, and as timed on the emulator."""
    invocations = max(fn["invocations"], 1)
    per_invocation = CPU_MS_PER_EVENT.get(r, 0.1) * events / invocations + aws_ms(fn["requests"], CONCURRENT.get(r)) / invocations
    modeled_ms = fn["invocations"] * max(1, math.ceil(per_invocation))
    gb = memory / 1024
    requests_cost = fn["invocations"] * PRICES["lambda_request"]
    return (requests_cost + modeled_ms / 1000 * gb * PRICES["lambda_gb_second"],
            requests_cost + fn["ms"] / 1000 * gb * PRICES["lambda_gb_second"], modeled_ms)


def price(functions, ingest, memory, manifest, logged):
    """Component → service → $ for the run's accepted events, and the Lambda cost as timed here."""
    acked = manifest["acked"]
    http_requests = sum(sum(by.values()) for by in manifest["statuses"].values()) + manifest["retries"]
    rows = defaultdict(lambda: defaultdict(float))
    # DSNs on ingest's function URL cost nothing per request; on the HTTP API (a custom
    # domain), each request is billed.
    if "/lambda-url/" not in ENV["DSN"] and ".lambda-url." not in ENV["DSN"]:
        rows["ingest"]["API Gateway"] = http_requests * PRICES["apigw_request"]
    # Ingest as measured per envelope under the harness, for every HTTP request of the run.
    scale = http_requests / max(ingest["invocations"], 1)
    ingest_run = {"invocations": http_requests, "ms": ingest["ms"] * scale,
                  "requests": {op: {k: v * scale for k, v in t.items()} for op, t in ingest["requests"].items()}}
    timed_here = 0.0
    invocations = http_requests
    ingest_name = next((n for n in memory if role(n) == "ingest"), "")
    parts = [("ingest", ingest_run, memory.get(ingest_name, 256))]
    parts += [(role(n), fn, memory.get(n, 128)) for n, fn in sorted(functions.items()) if role(n) != "api"]
    alerts = {"emails": 0, "dollars": 0.0}
    for r, fn, mem in parts:
        if r == "notifier":
            # Alerts scale with issues and rules, not events: priced per e-mail instead.
            modeled, timed, _ = lambda_cost(r, fn, mem, acked)
            alerts["emails"] += sum(t["n"] for op, t in fn["requests"].items() if op.lower().startswith("sesv2."))
            alerts["dollars"] += modeled + sum(aws_cost(fn["requests"]).values()) + \
                2 * fn["invocations"] * PRICES["sqs_request"]
            timed_here += timed
            continue
        modeled, timed, _ = lambda_cost(r, fn, mem, acked)
        rows[r]["Lambda"] += modeled
        timed_here += timed
        for service, dollars in aws_cost(fn["requests"]).items():
            rows[r][service] += dollars
        if r in ("processor", "symbolicator", "notifier"):
            # The event source mapping's ReceiveMessage and DeleteMessageBatch, 10 messages
            # each: once per batch of the emulator's (at most 10), per 10 of the harness's.
            rows[r]["SQS"] += fn.get("esm_requests", 2 * fn["invocations"]) * PRICES["sqs_request"]
            invocations += fn["invocations"]
    # The lines of the functions run under the harness (ingest, scaled to the run's requests),
    # with those the emulator kept.
    logged += ingest.get("logged", 0) * scale
    rows["logs"]["CloudWatch Logs"] = (logged + platform_log_bytes() * invocations) / 1e9 * logs_price()
    per = MILLION / acked
    return {c: {s: d * per for s, d in by.items()} for c, by in rows.items()}, timed_here * per, parts, alerts


def logs_price():
    """Per GB ingested, by the class of the functions' log groups in the template."""
    classes = {r["Properties"].get("LogGroupClass", "STANDARD") for k, r in template()["Resources"].items()
               if r["Type"] == "AWS::Logs::LogGroup"
               and any(k.startswith(f"Errata{f}Logs") for f in ("ingest", "processor", "symbolicator", "api", "notifier"))}
    return PRICES["logs_gb_ia"] if classes == {"INFREQUENT_ACCESS"} else PRICES["logs_gb"]


def platform_log_bytes():
    """Lambda's own lines per invocation, unless the functions' system log level leaves them out."""
    levels = {r["Properties"].get("LoggingConfig", {}).get("SystemLogLevel", "INFO")
              for k, r in template()["Resources"].items()
              if r["Type"] == "AWS::Lambda::Function" and role(k) != k}
    return 0 if levels <= {"WARN", "ERROR", "FATAL"} else PLATFORM_LOG_BYTES


def table(title, rows):
    services = sorted({s for by in rows.values() for s in by})
    print(f"\n{title}")
    print(f"{'component':<13}" + "".join(f"{s:>16}" for s in services) + f"{'total':>10}")
    total = 0.0
    for component, by in rows.items():
        subtotal = sum(by.values())
        total += subtotal
        print(f"{component:<13}" + "".join(f"{'$%.3f' % by[s] if s in by else '':>16}" for s in services)
              + f"{'$%.3f' % subtotal:>10}")
    print(f"{'total':<13}" + " " * 16 * len(services) + f"{'$%.2f' % total:>10}")
    return total


def what_if(rows, parts, acked):
    """The changes that would bring the steady cost down, priced from this run's requests."""
    processor = next((fn for r, fn, _ in parts if r == "processor"), None)
    if not processor or not processor["invocations"]:
        return
    per_batch = acked / processor["invocations"]
    per = MILLION / acked
    # Requests made once per batch, not per event: S3 (bodies, Parquet, compaction), the
    # settings read, the invocation, and the event source mapping's receive and delete.
    batch_ops = {op: t for op, t in processor["requests"].items() if op.lower().startswith("s3.")}
    batch_cost = (sum(aws_cost(batch_ops).values()) + processor["invocations"] * (
        PRICES["lambda_request"] + 2 * PRICES["sqs_request"])) * per
    saving_batches = batch_cost * (1 - per_batch / 100)
    # Each counted event's index entry (1 unit, 1 for its `by-issue` copy), and its issue's
    # count, once per issue and batch (1 unit).
    total = sum(sum(by.values()) for by in rows.values())
    writes = {op: t for op, t in processor["requests"].items() if op in ("DynamoDB.PutItem", "DynamoDB.UpdateItem")}
    units = sum(t.get("cu", 0.0) for t in writes.values()) / acked
    print(f"\nwhere it goes: the processor's DynamoDB writes are {units:.2f} units per event: an event's index entry "
          f"(1, and 1 for its `by-issue` copy) and its issue's count (1 per issue and batch; this mix sends each "
          f"group's events in turn, so a batch's events are of different issues)")
    print(f"what would bring it down (priced from this run's requests; not built):")
    if per_batch < 50:
        print(f"  processor batches of 100 instead of {per_batch:.1f} (BatchSize 100, a 1 s batching window): "
              f"-${saving_batches:.2f}")
    else:
        saving_batches = 0.0
    issue_side = processor["requests"].get("DynamoDB.UpdateItem", {}).get("cu", 0.0) * PRICES["dynamodb_wru"] * per
    saving_counts = issue_side * (1 - 1 / 5)
    print(f"  a stream where an issue has 5 events in a batch, not 1: -${saving_counts:.2f} (its count is "
          f"${issue_side:.2f} here)")
    saving_url = rows["ingest"].get("API Gateway", 0.0)
    if saving_url:
        print(f"  DSNs on ingest's function URL instead of a custom domain on API Gateway: -${saving_url:.2f}")
    print(f"  together: ${total - saving_batches - saving_counts - saving_url:.2f} per million")


def main():
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    clients = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    tag = uuid.uuid4().hex[:10]
    release = f"load@{tag}"
    # First every group's first events (new issues, alert e-mails), then the measured run on
    # the same groups: what a steady stream of errors costs.
    start = LOG.stat().st_size
    warm = run_load(WARMUP_EVENTS, clients, tag, "warmup")
    settle(release, warm["acked_per_group"])
    time.sleep(3)
    fill_from = LOG.stat().st_size
    # The run's sequence once more, unpriced: every issue the measured run counts exists.
    fill = run_load(events, clients, tag, "fill")
    opened = {g: warm["acked_per_group"].get(g, 0) + fill["acked_per_group"].get(g, 0)
              for g in set(warm["acked_per_group"]) | set(fill["acked_per_group"])}
    settle(release, opened)
    compact()  # the files so far, so the measured compaction reads only the measured run's
    time.sleep(3)
    measured_from = LOG.stat().st_size
    since = datetime.now(timezone.utc).replace(microsecond=0)
    processor_name, mapping = processor_mapping()
    set_trigger(mapping, False)
    try:
        run = run_load(events, clients, tag, "load")
        batched = measure_processor(processor_name, mapping)
    finally:
        set_trigger(mapping, True)
    expected = {g: opened.get(g, 0) + run["acked_per_group"].get(g, 0) for g in set(opened) | set(run["acked_per_group"])}
    settle(release, expected)
    compact()
    time.sleep(2)
    idle_from = LOG.stat().st_size
    compact()  # again, with nothing left to compact: what an idle hour runs
    time.sleep(3)
    warm_functions, warm_logged = read_log(start, fill_from)
    functions, logged = read_log(measured_from)
    logged += batched["logged"]
    # The harness's batches, and any the emulator delivered (before the trigger was off, or
    # retried after): 2 SQS requests each, its batches holding at most 10.
    emulated = functions[processor_name]
    batched["esm_requests"] += 2 * emulated["invocations"]
    batched["invocations"] += emulated["invocations"]
    batched["ms"] += emulated["ms"]
    for op, t in emulated["requests"].items():
        for k, v in t.items():
            batched["requests"][op][k] += v
    functions[processor_name] = batched
    idle_runs, _ = read_log(idle_from)
    ingest = measure_ingest(INGEST_SAMPLE, tag)
    memory = memory_mb()
    stored = stored_bytes(since)
    issue_bytes = issue_item_bytes(release)
    acked = run["acked"]

    rows, timed_here, parts, alerts = price(functions, ingest, memory, run, logged)
    total = table(f"AWS list-price cost per million events, steady stream (measured: {acked} accepted events "
                  f"of {events} envelopes into existing issues)", rows)
    print(f"{'':<13}goal: ≤ $3.00 — {'met' if total <= 3.0 else 'NOT met'}")
    warm_rows, _, _, warm_alerts = price(warm_functions, ingest, memory, warm, warm_logged)
    warm_total = sum(sum(by.values()) for by in warm_rows.values())
    print(f"\nwhile every event opens a new issue (the warm-up run: {warm['acked']} events, "
          f"{len(warm['acked_per_group'])} new issues): ${warm_total:.2f} per million, alerts aside")
    emails = alerts["emails"] + warm_alerts["emails"]
    if emails:
        print(f"alerts: ${(alerts['dollars'] + warm_alerts['dollars']) / emails * 1000:.3f} per 1,000 e-mails "
              f"(SES and the notifier; {emails} sent in these runs)")
    print(f"Lambda as timed on the emulator instead of modeled: ${timed_here:.2f} per million (its "
          f"DynamoDB, S3 and SQS answer in tens of ms, not AWS's few)")

    what_if(rows, parts, acked)

    print("\nper event, as measured (AWS requests per accepted event):")
    for r, fn, mem in parts:
        ops = ", ".join(f"{op} {t['n'] / acked:.2f}" + (f" ({t['cu'] / acked:.2f} units)" if t.get("cu") else "")
                        for op, t in sorted(fn["requests"].items()))
        _, _, modeled_ms = lambda_cost(r, fn, mem, acked)
        print(f"  {r:<13} {fn['invocations'] / acked:.3f} invocations, {modeled_ms / max(fn['invocations'], 1):.0f} ms "
              f"each modeled ({fn['ms'] / max(fn['invocations'], 1):.0f} ms timed here) at {mem} MB; {ops}")
    print(f"  an issue item: {issue_bytes:.0f} B (DynamoDB bills each write of it by the started KiB, twice in a "
          f"transaction)")
    parquet = stored.get("parquet", 0) / acked
    kept = sum(stored.values()) / acked
    storage = kept * MILLION / 1e9 * PRICES["s3_gb_month"]
    scan = max(parquet * MILLION / 1e12 * PRICES["athena_tb"], 10e6 / 1e12 * PRICES["athena_tb"])
    print(f"\nkept: {kept / 1024:.1f} KiB per event in S3 (Parquet {parquet:.0f} B of it): ${storage:.3f} per month per "
          f"million events retained; an Athena query over a million events' Parquet scans "
          f"{parquet * MILLION / 1e6:.0f} MB: ${scan:.4f}")
    api = next(((fn, mem) for n, fn in functions.items() for mem in [memory.get(n, 512)] if role(n) == "api"), None)
    if api:
        fn, mem = api
        modeled, _, _ = lambda_cost("api", fn, mem, 0)
        dollars = modeled + sum(aws_cost(fn["requests"]).values()) + fn["invocations"] * PRICES["apigw_request"]
        print(f"reading: an API request costs ${dollars / fn['invocations'] * MILLION:.2f} per million "
              f"(the issue-list pages of this run's checks)")

    # Idle: nothing runs but the hourly compaction (measured: the run's last, with nothing to
    # do); SQS triggers long-poll; alarms bill monthly.
    idle_compaction = next((fn for n, fn in idle_runs.items() if role(n) == "processor"), new_function())
    proc_mem = next((m for n, m in memory.items() if role(n) == "processor"), 512)
    compaction_ms = max(1, math.ceil(CPU_MS_PER_EVENT["processor"] + aws_ms(idle_compaction["requests"])))
    idle_compute = 720 * (PRICES["lambda_request"] + compaction_ms / 1000 * proc_mem / 1024 * PRICES["lambda_gb_second"])
    idle_requests = 720 * sum(aws_cost(idle_compaction["requests"]).values())
    resources = template()["Resources"].values()
    alarms = sum(1 for r in resources if r["Type"] == "AWS::CloudWatch::Alarm")
    triggers = sum(1 for r in resources if r["Type"] == "AWS::Lambda::EventSourceMapping")
    processor = next((fn for r, fn, _ in parts if r == "processor"), new_function())
    processor_units = sum(t.get("cu", 0.0) for op, t in processor["requests"].items() if op.startswith("DynamoDB.")) / acked
    idle = {
        "Lambda: hourly compaction": idle_compute,
        "its S3 listing": idle_requests,
        f"SQS: {triggers} triggers long-polling": triggers * IDLE_POLLS_PER_MONTH * PRICES["sqs_request"],
        f"CloudWatch: {alarms} alarms": alarms * PRICES["alarm_month"],
    }
    print("\nidle, per month (no events; API Gateway, DynamoDB on demand, Athena and CloudFront cost nothing idle):")
    for what, dollars in idle.items():
        print(f"  {what:<32} ${dollars:.4f}")
    print(f"  {'total':<32} ${sum(idle.values()):.2f}   (of it compute: ${idle_compute:.4f})")
    result = {"accepted": acked, "per_million": rows, "total": total, "alerts": alerts, "new_issues_per_million": warm_total,
              "lambda_timed_here_per_million": timed_here, "idle_month": idle, "stored_bytes_per_event": kept,
              "processor_dynamodb_units_per_event": processor_units,
              "processor_events_per_batch": acked / max(processor["invocations"], 1)}
    (STATE / "cost.json").write_text(json.dumps(result, indent=2))
    print(f"(written to {STATE / 'cost.json'})")


if __name__ == "__main__":
    main()
