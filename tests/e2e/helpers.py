"""Helpers shared by the end-to-end tests."""

import os
import random
import subprocess
import sys
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
SDKS = ROOT / "tests" / "sdks"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "errata-target"))


def new_tag(n=10):
    """A random word with no hex digits, so grouping never strips it as a parameter."""
    alphabet = "ghjkmnpqrstvwxyz"
    return "".join(random.choice(alphabet) for _ in range(n))


def ingest_url(stack, endpoint, project_id=None):
    """The ingest URL of `endpoint` (envelope, store, minidump, security) for the DSN's API."""
    base = stack["DSN"].replace(f"{stack['KEY']}@", "").rsplit("/", 1)[0]
    return f"{base}/api/{project_id or stack['PROJECT_ID']}/{endpoint}/"


def auth_header(key):
    return {"X-Sentry-Auth": f"Sentry sentry_key={key}, sentry_version=7, sentry_client=errata-e2e/1.0"}


def issues_matching(api, stack, text, query_prefix="is:unresolved"):
    resp = api.get(f"projects/{stack['ORG']}/{stack['PROJECT']}/issues/", query=f'{query_prefix} "{text}"', limit=100)
    assert resp.status_code == 200, resp.text
    return resp.json()


def wait_for_issues(api, stack, text, count, timeout=60.0):
    """Waits until exactly `count` issues match `text`; returns them."""
    return api.wait_for(
        lambda: (lambda found: found if len(found) == count else None)(issues_matching(api, stack, text)),
        f"{count} issue(s) matching {text!r}",
        timeout,
    )


def run(cmd, env=None, timeout=120):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})
    assert out.returncode == 0, f"{cmd[0]} failed:\n{out.stdout}\n{out.stderr}"
    return out.stdout


def python():
    return sys.executable


def post(url, **kwargs):
    return requests.post(url, timeout=30, **kwargs)
