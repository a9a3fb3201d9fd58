"""Shared fixtures: the settings `make up` wrote, and an API client for them."""

import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
ENV_FILE = ROOT / ".errata" / "local.env"


@pytest.fixture(scope="session")
def stack():
    """The running local stack's settings. Fails (never skips) when the stack is not up."""
    if not ENV_FILE.exists():
        pytest.fail(f"{ENV_FILE} is missing: run `make up` (or `make test`, which starts the stack)")
    settings = dict(
        line.split("=", 1) for line in ENV_FILE.read_text().splitlines() if "=" in line
    )
    try:
        requests.get(settings["AWS_ENDPOINT_URL"] + "/_ministack/health", timeout=5)
    except requests.RequestException as e:
        pytest.fail(f"the local AWS emulator is not reachable ({e}): run `make up`")
    return settings


class Api:
    def __init__(self, base, token):
        self.base = base.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def get(self, path, **params):
        return self.session.get(f"{self.base}/{path.lstrip('/')}", params=params, timeout=30)

    def wait_for(self, predicate, what, timeout=60.0):
        """Polls until `predicate()` returns a truthy value; fails with `what` otherwise."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = predicate()
            if last:
                return last
            time.sleep(0.2)
        pytest.fail(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


@pytest.fixture(scope="session")
def api(stack):
    return Api(stack["API"], stack["TOKEN"])
