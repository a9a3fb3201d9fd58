"""Cold start and memory of each function's release build, and the size of its Lambda zip.

Each binary (`cargo build --release`, this machine's architecture) is started the way Lambda
starts it: with AWS_LAMBDA_RUNTIME_API pointing at a small stand-in of the Runtime API served
here, its configuration from the CloudFormation template (resource names replaced by
placeholders), and an endpoint that refuses connections, so nothing reaches AWS. Measured:

- init: from exec until the runtime asks for its first invocation (what Lambda reports as
  Init Duration: configuration, SDK clients, tracing);
- RSS when ready, and the peak after one invocation that needs no AWS call (an unknown route
  for the HTTP functions, an empty batch for the queue consumers);
- the zip `make package` built for arm64 Lambdas ($CARGO_TARGET_DIR/lambda/errata-*/bootstrap.zip).

    python3 scripts/bench_functions.py [RUNS]       (part of `make bench`)
"""

import json
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lambda_harness import Run, template  # noqa: E402

TARGET = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "errata-target"))
FUNCTIONS = {
    # function: (template logical-id prefix, the one invocation's payload)
    "ingest": ("ErrataIngestFunction", {"version": "2.0", "rawPath": "/nothing/here", "requestContext": {
        "http": {"method": "GET", "path": "/nothing/here"}}, "isBase64Encoded": False}),
    "processor": ("ErrataProcessorFunction", {"Records": []}),
    "symbolicator": ("ErrataSymbolicatorFunction", {"Records": []}),
    "api": ("ErrataApiFunction", {"version": "2.0", "rawPath": "/api/0/nothing/", "requestContext": {
        "http": {"method": "GET", "path": "/api/0/nothing/"}}, "isBase64Encoded": False}),
    "notifier": ("ErrataNotifierFunction", {"Records": []}),
}


def environment(prefix):
    """The function's variables from the template, with every reference a placeholder."""
    for logical_id, resource in template()["Resources"].items():
        if logical_id.startswith(prefix) and resource["Type"] == "AWS::Lambda::Function":
            env = resource["Properties"].get("Environment", {}).get("Variables", {})
            return {k: v if isinstance(v, str) else (f"http://127.0.0.1:9/{k.lower()}" if k.endswith("_URL")
                                                        else f"bench-{k.lower()}") for k, v in env.items()}, \
                resource["Properties"].get("MemorySize", 128)
    sys.exit(f"no {prefix} in the template")


def measure(function):
    prefix, payload = FUNCTIONS[function]
    variables, memory = environment(prefix)
    env = {**variables, "AWS_LAMBDA_FUNCTION_NAME": f"bench-{function}",
           "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory), "AWS_ACCESS_KEY_ID": "bench",
           "AWS_SECRET_ACCESS_KEY": "bench", "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "RUST_LOG": "warn"}
    ready_rss = []
    run = Run(TARGET / "release" / f"errata-{function}", env, [json.dumps(payload).encode()],
              on_ready=lambda r: ready_rss.append(r.status("VmRSS")))
    answered = run.wait(30)
    peak = run.status("VmHWM")
    _, err = run.stop()
    if not answered or run.answers[0][0] != "response":
        sys.exit(f"{function}: no answer to its invocation ({run.answers}): {err[-800:]}")
    return {"init_ms": (run.ready_at - run.started) * 1000, "ready_mb": ready_rss[0], "peak_mb": peak,
            "memory_mb": memory}


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    print(f"\n{'function':<14}{'init p50/max':>16}{'RSS ready':>11}{'RSS peak':>10}"
          f"{'configured':>12}{'zip':>9}{'binary':>9}")
    stale = False
    for function in FUNCTIONS:
        results = [measure(function) for _ in range(runs)]
        init = sorted(r["init_ms"] for r in results)
        zip_path = TARGET / "lambda" / f"errata-{function}" / "bootstrap.zip"
        binary_path = TARGET / "release" / f"errata-{function}"
        zip_mb = f"{zip_path.stat().st_size / 1e6:.1f} MB" if zip_path.exists() else "—"
        if zip_path.exists() and zip_path.stat().st_mtime < binary_path.stat().st_mtime - 3600:
            zip_mb += "*"
            stale = True
        binary = binary_path.stat().st_size / 1e6
        print(f"{function:<14}{f'{statistics.median(init):.1f} / {init[-1]:.1f} ms':>16}"
              f"{statistics.median(r['ready_mb'] for r in results):>8.1f} MB"
              f"{max(r['peak_mb'] for r in results):>7.1f} MB{results[0]['memory_mb']:>9} MB{zip_mb:>9}"
              f"{binary:>6.1f} MB")
    print(f"({runs} cold starts each; release builds for this machine, zips arm64)")
    if stale:
        print("* the zip is older than the code: `make package` builds it again")


if __name__ == "__main__":
    main()
