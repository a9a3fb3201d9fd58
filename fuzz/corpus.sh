#!/usr/bin/env bash
# Seeds the fuzz corpora from the recorded SDK requests and hand-made hostile inputs
# (deep JSON, huge numbers, invalid UTF-8, truncated lengths, a decompression bomb).
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/envelope corpus/ingest corpus/event corpus/query
for body in ../tests/fixtures/sdk/*/*.body; do
  name="$(basename "$(dirname "$body")")-$(basename "$body" .body)"
  enc=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['headers'].get('content-encoding',''))" "${body%.body}.json")
  case "$enc" in gzip) sel='\x04' ;; br) sel='\x0c' ;; *) sel='\x00' ;; esac
  { printf "$sel"; cat "$body"; } > "corpus/ingest/$name"
  if [ -z "$enc" ]; then cp "$body" "corpus/envelope/$name"; fi
done
python3 - <<'PY'
import gzip, json
cases = {
    "deep": b"[" * 50000 + b"]" * 50000 + b"\n",
    "huge_number": b'{}\n{"type":"event","length":1e999}\n{}',
    "bad_utf8": b'{"event_id":"\xff\xfe"}\n{"type":"event"}\n\xc3\x28\n',
    "truncated": b'{}\n{"type":"attachment","length":100}\nshort',
    "negative": b'{}\n{"type":"event","length":-5}\n{}',
    "many_items": b"{}\n" + b'{"type":"session"}\n{}\n' * 2000,
}
for name, data in cases.items():
    open(f"corpus/envelope/{name}", "wb").write(data)
    open(f"corpus/ingest/{name}", "wb").write(b"\x00" + data)
# Event JSON: every event item of the recorded requests, plus hostile ones.
import glob, zlib
try:
    import brotli
except ImportError:
    brotli = None
for meta_path in glob.glob("../tests/fixtures/sdk/*/*.json"):
    enc = json.load(open(meta_path))["headers"].get("content-encoding", "")
    body = open(meta_path[:-5] + ".body", "rb").read()
    if enc == "gzip":
        body = gzip.decompress(body)
    elif enc == "br":
        if brotli is None:
            continue
        body = brotli.decompress(body)
    lines = body.split(b"\n")
    for i, line in enumerate(lines):
        if line.startswith(b"{") and b'"type":"event"' in line.replace(b" ", b"") and i + 1 < len(lines):
            name = meta_path.split("/")[-2] + "-" + meta_path.split("/")[-1][:-5] + f"-{i}"
            open(f"corpus/event/{name}", "wb").write(lines[i + 1])
events = {
    "deep_extra": b'{"extra":' + b'{"a":' * 2000 + b'1' + b'}' * 2000 + b'}',
    "long_strings": json.dumps({"message": "x" * 100000, "tags": {"k" * 300: "v"}, "release": "latest"}).encode(),
    "frames": json.dumps({"exception": {"values": [{"type": "E", "stacktrace": {"frames": [{"function": "?"}] * 1000}}]}}).encode(),
    "params": json.dumps({"logentry": {"message": "%(a)s %s {} {0} {b} %%", "params": {"a": 1, "b": [2]}}}).encode(),
    "ua": json.dumps({"request": {"url": "http://[::1]:80/", "headers": [["User-Agent", "Mozilla/5.0 (compatible; MSIE 6.0)"]]}}).encode(),
}
for name, data in events.items():
    open(f"corpus/event/{name}", "wb").write(data)
open("corpus/ingest/bomb", "wb").write(b"\x04" + gzip.compress(b"\0" * (30 * 1024 * 1024), mtime=0))
open("corpus/ingest/store", "wb").write(b"\x01" + json.dumps({"message": "x", "extra": {"n": 10**400}}).encode().replace(b"1" + b"0" * 400, b"1" + b"0" * 400))
open("corpus/ingest/minidump", "wb").write(b"\x02--B\r\nContent-Disposition: form-data; name=\"upload_file_minidump\"; filename=\"a\"\r\n\r\nMDMP\x93\xa7\r\n--B--\r\n")
queries = {
    "statuses": 'is:unresolved is:for_review !is:ignored',
    "keys": 'level:error environment:production release:"shop@1.2" assigned:me has:user',
    "times": 'age:-24h lastSeen:+7d firstSeen:2026-01-01 timesSeen:>10 userCount:<=3',
    "text": '"quoted text" bare words \\"escaped\\" tag:value',
    "negated_lists": '!level:[error,fatal] release:[a,b,"c d"] custom.tag:x*',
    "unbalanced": '"no end level:[a,b is: :: !! ""',
    "long": "level:error " * 500,
    "unicode": "fehler:ü 🤖:x is:\u00e9",
}
for name, text in queries.items():
    open(f"corpus/query/{name}", "w").write(text)
open("corpus/ingest/security", "wb").write(b"\x03" + json.dumps({"csp-report": {"blocked-uri": "inline", "effective-directive": "style-src"}}).encode())
PY
echo "corpus: $(ls corpus/envelope | wc -l) envelope, $(ls corpus/ingest | wc -l) ingest, $(ls corpus/event | wc -l) event inputs"
