"""What a Python app does with sentry-sdk, run against a DSN: errors (with an attachment),
a message, a transaction, a session and a cron check-in. (User feedback: see the Node app;
this SDK version has no feedback API.)

    python python_app.py DSN TAG [gzip|br]
"""

import sys

import sentry_sdk
from sentry_sdk.crons import capture_checkin

dsn, tag = sys.argv[1], sys.argv[2]
algo = sys.argv[3] if len(sys.argv) > 3 else "gzip"
sentry_sdk.init(
    dsn=dsn,
    release=f"py-app@{tag}",
    environment="e2e",
    traces_sample_rate=1.0,
    _experiments={"transport_compression_algo": algo},
)


# One class per run (its name carries the tag), so runs do not group with each other.
CaptureError = type(f"CaptureError{tag}", (Exception,), {})


def failing(kind):
    raise CaptureError(f"{kind} failed for {tag}")


with sentry_sdk.new_scope() as scope:
    scope.add_attachment(bytes=b"log line 1\nlog line 2\n", filename="app.log", content_type="text/plain")
    try:
        failing("payment")
    except CaptureError:
        error_id = sentry_sdk.capture_exception()

sentry_sdk.capture_message(f"python message {tag}", level="warning")
with sentry_sdk.start_transaction(name=f"checkout-{tag}", op="task"):
    with sentry_sdk.start_span(op="db", description="select 1"):
        pass
capture_checkin(monitor_slug=f"nightly-{tag}", status="ok")
sentry_sdk.start_session()
sentry_sdk.end_session()
sentry_sdk.flush(timeout=10)
print(error_id)
