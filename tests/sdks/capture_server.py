"""A recording stand-in for Sentry: answers every request like ingest does and writes each one
(headers + raw body) to a directory, so what real SDKs put on the wire becomes test fixtures.

    python capture_server.py OUT_DIR PORT
"""

import json
import sys
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

OUT = Path(sys.argv[1])
PORT = int(sys.argv[2])
OUT.mkdir(parents=True, exist_ok=True)
counter = iter(range(1, 10_000))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", ""):
            data = b""
            while True:
                size = int(self.rfile.readline().strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def do_POST(self):
        body = self._body()
        n = next(counter)
        name = f"{n:03d}"
        meta = {"method": "POST", "path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}}
        (OUT / f"{name}.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        (OUT / f"{name}.body").write_bytes(body)
        reply = json.dumps({"id": uuid.uuid4().hex}).encode()
        self.send_response(200)
        self._cors()
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def do_OPTIONS(self):
        """A CORS preflight, answered like ingest does and not recorded."""
        self.send_response(200)
        self._cors()
        self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "*")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _cors(self):
        # As ingest does: the browser SDK posts cross-origin and needs these to read the reply.
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Expose-Headers", "x-sentry-error, x-sentry-rate-limits, retry-after")

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
