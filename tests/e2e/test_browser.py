"""@sentry/browser in a real browser (Debian's Chromium, driven by playwright-core) against the
local stack: the page is served from 127.0.0.1 on another port, so every send is cross-origin."""

from helpers import SDKS, ingest_url, new_tag, post, run, wait_for_issues

RUN = SDKS / "browser" / "run.mjs"


def allow_origin_values(stack):
    """The Access-Control-Allow-Origin headers of an ingest answer to a cross-origin POST (an
    empty envelope: refused, nothing stored)."""
    resp = post(
        ingest_url(stack, "envelope"),
        headers={"Origin": "http://127.0.0.1:9", "Content-Type": "text/plain;charset=UTF-8"},
        data=b"",
    )
    return resp.raw.headers.getlist("Access-Control-Allow-Origin")


def test_ingest_answers_are_readable_cross_origin(stack):
    # Exactly one Access-Control-Allow-Origin: a second one (the function's own on top of the
    # gateway's) makes browsers refuse the answer, and the SDK sees a network error.
    assert allow_origin_values(stack) == ["*"]


def test_browser_sdk(stack, api):
    tag = new_tag()
    ids = run(["node", str(RUN), stack["DSN"], tag], timeout=120).split()
    assert len(ids) == 3, ids

    [uncaught] = wait_for_issues(api, stack, f"checkout click failed for {tag}", 1)
    assert uncaught["title"] == f"BrowserUncaughtError{tag}: checkout click failed for {tag}"
    assert uncaught["culprit"].endswith(f"/{tag}/app.js in submitCheckout")
    assert uncaught["level"] == "error"

    [captured] = wait_for_issues(api, stack, f"cart parse failed for {tag}", 1)
    assert captured["title"] == f"BrowserCaptureError{tag}: cart parse failed for {tag}"
    assert captured["culprit"].endswith(f"/{tag}/app.js in parseCart")

    # captureMessage sends a typeless exception with the caller's stack, titled by its value;
    # the script's URL carries the tag, so it does not group with other runs' messages.
    [message] = wait_for_issues(api, stack, f"browser message {tag}", 1)
    assert message["title"] == f"browser message {tag}"
    assert message["level"] == "warning"

    for issue in (uncaught, captured, message):
        assert issue["platform"] == "javascript"
        event = api.get(f"issues/{issue['id']}/events/latest/").json()
        assert event["eventID"] in ids
        assert event["sdk"]["name"] == "sentry.javascript.browser"
        assert event["environment"] == "e2e"
        assert {"key": "release", "value": f"browser-app@{tag}"} in event["tags"]

    event = api.get(f"issues/{uncaught['id']}/events/latest/").json()
    [exception] = [e for e in event["entries"] if e["type"] == "exception"]
    assert exception["data"]["values"][0]["mechanism"]["handled"] is False
