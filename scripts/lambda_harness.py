"""Runs a function's binary the way Lambda does, outside any emulator: a stand-in of the Lambda
Runtime API (the three routes a custom runtime uses) serves a list of invocation payloads in
order and keeps the answers; once they are used up, `next` waits until the process is killed.
Used by `bench_functions.py` (init time and memory) and `cost.py` (ingest's AWS requests).
"""

import json
import os
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def template():
    """The stack's CloudFormation template (synthesized from the CDK app when not there yet)."""
    path = ROOT / ".errata" / "errata.template.json"
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        out = subprocess.run(["npx", "tsx", "scripts/template.ts"], cwd=ROOT / "infra" / "cdk", check=True,
                             capture_output=True).stdout
        path.write_bytes(out)
    return json.loads(path.read_text())


class Run:
    """One process of `binary` with `env`, invoked once per payload (bytes)."""

    def __init__(self, binary, env, payloads, on_ready=None):
        self.payloads = list(payloads)
        self.answers = []  # (route: "response" or "error", body bytes)
        self.ready_at = None
        self.done = threading.Event()
        self.on_ready = on_ready
        self.lock = threading.Lock()
        run = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                with run.lock:
                    if run.ready_at is None:
                        run.ready_at = time.monotonic()
                        if run.on_ready:
                            run.on_ready(run)
                    index = len(run.answers)
                    payload = run.payloads[index] if index < len(run.payloads) else None
                if payload is None:
                    run.done.set()
                    time.sleep(3600)
                    return
                self.send_response(200)
                for k, v in {"Lambda-Runtime-Aws-Request-Id": f"req-{index}",
                             "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + 60_000),
                             "Lambda-Runtime-Invoked-Function-Arn":
                                 "arn:aws:lambda:us-east-1:000000000000:function:harness",
                             "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000",
                             "Content-Type": "application/json",
                             "Content-Length": str(len(payload))}.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with run.lock:
                    run.answers.append((self.path.rsplit("/", 1)[-1], body))
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        env = {"PATH": os.environ.get("PATH", ""), "AWS_REGION": "us-east-1",
               "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_LAMBDA_LOG_STREAM_NAME": "harness",
               "AWS_LAMBDA_LOG_GROUP_NAME": "harness", **env,
               "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{self.server.server_address[1]}"}
        self.started = time.monotonic()
        self.proc = subprocess.Popen([str(binary)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # Drained as it comes: a full pipe would stop the function mid-log.
        self.output = {"out": [], "err": []}
        for name, pipe in (("out", self.proc.stdout), ("err", self.proc.stderr)):
            threading.Thread(target=lambda n=name, p=pipe: self.output[n].extend(iter(p.readline, b"")),
                             daemon=True).start()

    def wait(self, timeout):
        """Until every payload is answered (True), the process exits or the time is up."""
        deadline = time.monotonic() + timeout
        while not self.done.is_set() and self.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        return self.done.is_set()

    def status(self, field):
        """A /proc status figure of the process in MB (VmRSS, VmHWM)."""
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith(field + ":"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def stop(self):
        """Kills the process; returns its stdout and stderr."""
        self.proc.kill()
        self.proc.wait()
        time.sleep(0.05)  # the readers' last lines
        self.server.shutdown()
        return (b"".join(self.output["out"]).decode(errors="replace"),
                b"".join(self.output["err"]).decode(errors="replace"))
