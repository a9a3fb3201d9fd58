"""Every real SDK against the local stack: Python (gzip and brotli), Node, Rust, sentry-cli."""


from helpers import SDKS, TARGET, issues_matching, new_tag, python, run, wait_for_issues


def test_python_sdk_gzip_and_brotli(stack, api):
    for algo in ("gzip", "br"):
        tag = f"{algo}{new_tag(8)}"
        run([python(), str(SDKS / "python_app.py"), stack["DSN"], tag, algo])
        [error] = wait_for_issues(api, stack, f"payment failed for {tag}", 1)
        assert error["title"] == f"CaptureError{tag}: payment failed for {tag}"
        assert error["culprit"] == "__main__ in failing"
        [message] = wait_for_issues(api, stack, f"python message {tag}", 1)
        assert message["level"] == "warning"
        event = api.get(f"issues/{error['id']}/events/latest/").json()
        assert {"key": "release", "value": f"py-app@{tag}"} in event["tags"]


def test_node_sdk(stack, api):
    tag = new_tag()
    run(["node", str(SDKS / "node" / "app.mjs"), stack["DSN"], tag])
    [error] = wait_for_issues(api, stack, f"order parse failed for {tag}", 1)
    assert error["title"] == f"NodeCaptureError{tag}: order parse failed for {tag}"
    assert error["platform"] == "node"
    # captureMessage sends a typeless exception with the caller's stack, so messages from one
    # line of code group together across runs (as in Sentry); the latest event is this run's.
    def this_runs_message():
        for issue in issues_matching(api, stack, "node message", query_prefix=""):
            event = api.get(f"issues/{issue['id']}/events/latest/").json()
            if {"key": "release", "value": f"node-app@{tag}"} in event["tags"]:
                return issue
        return None

    message = api.wait_for(this_runs_message, "this run's node message")
    assert message["level"] == "warning"
    assert message["title"].startswith("node message ")

    # The feedback the app sent about its error is on the error's issue.
    [report] = api.wait_for(lambda: api.get(f"issues/{error['id']}/user-reports/").json(), "the user feedback")
    assert (report["name"], report["email"], report["comments"]) == ("Ann", "ann@example.com", "It broke")

    # The session the SDK tracked itself: one started, ended with an error.
    def health():
        resp = api.get(
            f"organizations/{stack['ORG']}/sessions/",
            project=stack["PROJECT_ID"],
            field="sum(session)",
            groupBy="session.status",
            query=f"release:node-app@{tag}",
        )
        assert resp.status_code == 200, resp.text
        totals = {g["by"]["session.status"]: g["totals"]["sum(session)"] for g in resp.json()["groups"]}
        return totals if totals.get("errored") == 1 else None

    totals = api.wait_for(health, "the node session in release health")
    assert totals == {"healthy": 0, "errored": 1, "crashed": 0, "abnormal": 0}


def test_rust_sdk(stack, api):
    tag = new_tag()
    run([str(TARGET / "debug" / "errata-sdk-rust-app"), stack["DSN"], tag])
    [error] = wait_for_issues(api, stack, f"config load failed for {tag}", 1)
    assert error["title"].endswith(f"RustCaptureError: config load failed for {tag}")
    assert error["platform"] == "native"
    wait_for_issues(api, stack, f"rust message {tag}", 1)


def test_sentry_cli_send_event(stack, api):
    tag = new_tag()
    cli = SDKS / "node" / "node_modules" / ".bin" / "sentry-cli"
    run([str(cli), "send-event", "-m", f"cli message {tag}", "--no-environ"], env={"SENTRY_DSN": stack["DSN"]})
    [issue] = wait_for_issues(api, stack, f"cli message {tag}", 1)
    assert issue["title"] == f"cli message {tag}"
