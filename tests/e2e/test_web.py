"""The web app in Debian's Chromium (playwright-core) against the local stack: sign in, find
an issue a real SDK (sentry-sdk) sent, open it, read its stack trace, step to an older event,
resolve it and see it leave the unresolved stream; on the way, first-run setup (with the real
setup secret, answered "already set up"), an invitation, the account page and the audit log.
The event's type, message, tag, breadcrumb and frame name carry HTML and JavaScript: the page
must show them as text and run nothing. Screenshots of the main pages are written to
.errata/screens/ (test artifacts)."""

import json
import subprocess
import sys
import textwrap

from helpers import ROOT, new_tag, run, wait_for_issues

FLOW = ROOT / "web" / "test" / "browser" / "flow.mjs"
SCREENS = ROOT / ".errata" / "screens"
HOSTILE = '<img src=x onerror="window.__xss=1;alert(1)">'

# A Python app whose error is hostile everywhere an event carries text. Two events of one issue.
APP = textwrap.dedent(
    """
    import sys, sentry_sdk
    from requests.hooks import dispatch_hook
    dsn, tag, hostile = sys.argv[1], sys.argv[2], sys.argv[3]
    sentry_sdk.init(dsn=dsn, release="web@" + tag, environment="web-e2e")
    sentry_sdk.set_tag("payload", hostile)
    sentry_sdk.set_user({"id": "u-" + tag, "email": tag + "@example.com"})
    sentry_sdk.add_breadcrumb(category="ui.click", message=hostile, level="info")
    Hostile = type("Hostile" + hostile, (Exception,), {})

    def checkout(n):
        total = n * 2
        raise Hostile("hostile " + tag + " <script>window.__xss=2</script>")

    # The frame's function name itself is hostile (what a minified or generated name could be).
    checkout.__code__ = checkout.__code__.replace(co_name="checkout" + hostile)
    for n in range(2):
        try:
            # Called through a library (site-packages: not in-app), so the trace has system frames.
            dispatch_hook("response", {"response": checkout}, n)
        except Exception as e:
            with sentry_sdk.new_scope() as scope:
                scope.fingerprint = ["web-e2e", tag]  # one issue per run
                scope.add_attachment(bytes=b"<html><script>window.__xss=3</script></html>", filename="page.html", content_type="text/html")
                print(sentry_sdk.capture_exception(e))
    sentry_sdk.flush(timeout=10)
    """
)


def test_triage_in_the_browser(stack, api, tmp_path):
    tag = new_tag()
    app = tmp_path / "shop.py"  # a file, so frames carry source context
    app.write_text(APP)
    # Run from its folder: the SDK counts files under the working directory as in-app.
    out = subprocess.run([sys.executable, str(app), stack["DSN"], tag, HOSTILE], capture_output=True, text=True,
                         timeout=60, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    [issue] = wait_for_issues(api, stack, f"hostile {tag}", 1)
    api.wait_for(lambda: api.get(f"issues/{issue['id']}/").json()["count"] == "2", "both events counted")

    assert stack.get("SETUP_SECRET"), "the stack settings have no SETUP_SECRET line: redeploy it (make up)"
    result = run(["node", str(FLOW), stack["WEB"], stack["LOGIN"], stack["PASSWORD"], tag, str(SCREENS)], timeout=240,
                 env={"MAILBOX_URL": stack["AWS_ENDPOINT_URL"] + "/_ministack/ses/messages",
                      "SETUP_SECRET": stack["SETUP_SECRET"]})
    found = json.loads(result.strip().splitlines()[-1])
    print(json.dumps({k: found.get(k) for k in ("firstLoadMs", "firstLoadRequests", "routeChangeMs", "phoneOverflow")}))

    # With the real setup secret the API gets as far as saying it is set up already.
    assert "already set up" in found["setupAnswer"], found["setupAnswer"]
    # Nothing from the event ran: no script, no alert, no page error.
    assert found["xss"] is None and found["dialogs"] == [] and found["pageErrors"] == [], found
    # …and all of it is on the page as text.
    title = f"Hostile{HOSTILE}: hostile {tag} <script>window.__xss=2</script>"
    assert title in found["streamTitles"], found["streamTitles"]
    assert found["issueTitle"] == title
    assert f"checkout{HOSTILE}" in found["frames"], found["frames"]
    assert 'raise Hostile("hostile " + tag' in found["errorLine"], found["errorLine"]
    assert any(HOSTILE in pill for pill in found["tagPills"]), found["tagPills"]
    assert any(HOSTILE in crumb for crumb in found["breadcrumbs"]), found["breadcrumbs"]
    assert found["attachments"] == ["page.html"]
    # The full view adds the library's frames.
    assert "dispatch_hook" in found["allFrames"] and "dispatch_hook" not in found["frames"], found
    assert found["groupedBy"] == "fingerprint"
    assert found["olderEventUrl"] != found["issueUrl"]
    # Suggestions complete keys, then offer values.
    assert found["afterTab"] == "level:" and "error" in " ".join(found["levelOptions"])
    # Resolving takes it out of the unresolved stream and into the resolved one.
    assert found["statusAfterResolve"] == "resolved"
    assert not any(tag in t for t in found["unresolvedAfter"]), found["unresolvedAfter"]
    assert any(tag in t for t in found["resolvedAfter"]), found["resolvedAfter"]
    # Every key of the project is listed with its DSN (other tests add keys to this project).
    assert any(d.startswith("http://") and stack["KEY"] in d for d in found["dsns"]), found["dsns"]
    # Settings forms answer with the API's own validation, and save.
    assert "line 1" in found["badRuleNotice"].lower(), found["badRuleNotice"]
    assert "more than 5 events in 60 minutes" in found["ruleText"], found["ruleText"]
    # An invitation sent from the members page is accepted from its e-mail.
    assert found["inviteLink"].startswith(stack["WEB"] + "#/accept-invite/"), found["inviteLink"]
    assert found["inviteeHeader"] == f"web-{tag}@example.test"
    assert "accept-invite" not in found["afterInviteUrl"], found["afterInviteUrl"]
    # The account page lists this browser's sign-in (which it does not offer to end alone), and
    # catches new passwords that differ.
    assert found["accountSessions"] >= 1 and found["currentSessionSignOut"] == 0, found
    assert "not the same" in found["passwordMismatch"], found["passwordMismatch"]
    # The audit log recorded the invitation, and its filter shows that event only.
    assert "member.invite" in found["auditInvite"] and f"web-{tag}@example.test" in found["auditInvite"], found["auditInvite"]
    # Readable on a phone: nothing wider than the screen.
    assert found["phoneOverflow"] <= 0, found["phoneOverflow"]
    for name in ("sign-in", "stream", "issue", "settings-keys", "settings-alerts", "settings-debug-files", "settings-members",
                 "accept-invite", "releases", "stream-phone", "account", "settings-audit-log"):
        assert (SCREENS / f"{name}.png").stat().st_size > 5000, name
