#!/usr/bin/env bash
# Seeds the fuzz corpora from the recorded SDK requests and hand-made hostile inputs
# (deep JSON, huge numbers, invalid UTF-8, truncated lengths, a decompression bomb).
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/envelope corpus/ingest
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
open("corpus/ingest/bomb", "wb").write(b"\x04" + gzip.compress(b"\0" * (30 * 1024 * 1024), mtime=0))
open("corpus/ingest/store", "wb").write(b"\x01" + json.dumps({"message": "x", "extra": {"n": 10**400}}).encode().replace(b"1" + b"0" * 400, b"1" + b"0" * 400))
open("corpus/ingest/minidump", "wb").write(b"\x02--B\r\nContent-Disposition: form-data; name=\"upload_file_minidump\"; filename=\"a\"\r\n\r\nMDMP\x93\xa7\r\n--B--\r\n")
open("corpus/ingest/security", "wb").write(b"\x03" + json.dumps({"csp-report": {"blocked-uri": "inline", "effective-directive": "style-src"}}).encode())
PY
echo "corpus: $(ls corpus/envelope | wc -l) envelope, $(ls corpus/ingest | wc -l) ingest inputs"
