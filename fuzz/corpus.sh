#!/usr/bin/env bash
# Seeds the fuzz corpora from the recorded SDK requests and hand-made hostile inputs
# (deep JSON, huge numbers, invalid UTF-8, truncated lengths, a decompression bomb).
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/envelope corpus/ingest corpus/event corpus/query corpus/uploads corpus/minidump
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
# Uploads (selector 0 chunk-upload, 1 difs/assemble, 2 artifactbundle/assemble, 3 a file's
# content) and native files (selector 0 a minidump, 1 a debug file).
python3 - <<'PY'
import gzip, hashlib, io, json, zipfile
fixture = open("../tests/fixtures/minidump/linux-amd64.dmp", "rb").read()
sym = b"MODULE Linux x86_64 B6A9F2A3C8D94F1E8D2C7B0A4E5F6A7B0 app\nFILE 0 /src/app.c\nFUNC 1000 20 0 main\n1000 10 5 0\nSTACK CFI INIT 1000 20 .cfa: $rsp 8 + .ra: .cfa -8 + ^\n"
elf = open("/bin/true", "rb").read()
bundle = io.BytesIO()
with zipfile.ZipFile(bundle, "w") as z:
    z.writestr("manifest.json", json.dumps({"files": {"_/_/app.min.js": {"url": "~/app.min.js", "type": "minified_source", "headers": {"debug-id": "b6a9f2a3-c8d9-4f1e-8d2c-7b0a4e5f6a7b", "sourcemap": "app.min.js.map"}}, "_/_/app.min.js.map": {"url": "~/app.min.js.map", "type": "source_map", "headers": {"debug-id": "b6a9f2a3-c8d9-4f1e-8d2c-7b0a4e5f6a7b"}}}, "org": "acme", "release": "1.0"}))
    z.writestr("_/_/app.min.js", "function a(){throw new Error('x')}a();\n//# debugId=b6a9f2a3-c8d9-4f1e-8d2c-7b0a4e5f6a7b\n")
    z.writestr("_/_/app.min.js.map", json.dumps({"version": 3, "sources": ["app.js"], "names": ["a"], "mappings": "AAAA", "sourcesContent": ["function a() { throw new Error('x') }"]}))
bundle = bundle.getvalue()
def part(name, data, field="file"):
    return (f"--B\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\n\r\n").encode() + data + b"\r\n"
chunk = b"hello chunk"
uploads = {
    "chunk": b"\x00" + part(hashlib.sha1(chunk).hexdigest(), chunk) + b"--B--\r\n",
    "chunk_gzip": b"\x00" + part(hashlib.sha1(chunk).hexdigest(), gzip.compress(chunk, mtime=0), "file_gzip") + b"--B--\r\n",
    "chunk_bomb": b"\x00" + part("0" * 40, gzip.compress(b"\0" * (20 * 1024 * 1024), mtime=0), "file_gzip") + b"--B--\r\n",
    "chunk_bad_name": b"\x00" + part("../../etc/passwd", chunk) + b"--B--\r\n",
    "difs": b"\x01" + json.dumps({"a" * 40: {"name": "app.debug", "debug_id": "b6a9f2a3-c8d9-4f1e-8d2c-7b0a4e5f6a7b", "chunks": ["b" * 40]}}).encode(),
    "difs_deep": b"\x01" + b'{"' + b"a" * 40 + b'":' + b'{"n":' * 3000 + b"1" + b"}" * 3001,
    "difs_huge_numbers": b"\x01" + b'{"' + b"a" * 40 + b'": {"name": 1e999, "chunks": [-0, 18446744073709551616]}}',
    "difs_bad_utf8": b"\x01" + b'{"\xff\xfe": {"name": "\xc3\x28", "chunks": []}}',
    "bundle": b"\x02" + json.dumps({"checksum": "c" * 40, "chunks": ["c" * 40], "projects": ["web"], "version": "1.0", "dist": "a"}).encode(),
    "bundle_many_projects": b"\x02" + json.dumps({"checksum": "c" * 40, "chunks": ["c" * 40] * 200, "projects": ["web"] * 5000}).encode(),
    "file_sym": b"\x03" + sym,
    "file_elf": b"\x03" + elf,
    "file_bundle": b"\x03" + bundle,
    "file_zip_bomb": b"\x03" + (lambda b: (zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED).writestr("manifest.json", b" " * (50 * 1024 * 1024)), b)[1].getvalue())(io.BytesIO()),
}
for name, data in uploads.items():
    open(f"corpus/uploads/{name}", "wb").write(data)
natives = {"linux-amd64": b"\x00" + fixture, "truncated": b"\x00" + fixture[:600], "sym": b"\x01" + sym, "elf": b"\x01" + elf,
           "header_only": b"\x00MDMP\x93\xa7\x00\x00\xff\xff\xff\x7f\x20\x00\x00\x00" + bytes(16)}
for name, data in natives.items():
    open(f"corpus/minidump/{name}", "wb").write(data)
PY
echo "corpus: $(ls corpus/envelope | wc -l) envelope, $(ls corpus/ingest | wc -l) ingest, $(ls corpus/event | wc -l) event, $(ls corpus/query | wc -l) query, $(ls corpus/uploads | wc -l) uploads, $(ls corpus/minidump | wc -l) minidump inputs"
