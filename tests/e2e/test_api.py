"""The API on the local stack: accounts and tenancy (sign-in, tokens, organizations,
invitations by e-mail, DSN keys), and issue search, counts and tags over the real event store
(Athena on the emulator), with events sent by the real Python SDK."""

import subprocess
import sys
import time

import pytest
import requests

from helpers import new_tag

# Sends one error per message with the given tag, release and environment; argv: dsn tag
# release environment message...
APP = r"""
import sys, sentry_sdk
dsn, tag, release, env, *messages = sys.argv[1:]
sentry_sdk.init(dsn=dsn, release=release, environment=env)
sentry_sdk.set_tag("e2etag", tag)
for m in messages:
    with sentry_sdk.new_scope() as scope:
        scope.fingerprint = [m]  # one issue per message text
        try:
            raise RuntimeError(m)
        except RuntimeError as e:
            sentry_sdk.capture_exception(e)
sentry_sdk.flush(10)
"""


def send(dsn, tag, release, env, *messages):
    out = subprocess.run([sys.executable, "-c", APP, dsn, tag, release, env, *messages], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


class Client:
    """The API with a session cookie (sent by hand: requests keeps `Secure` cookies off http)."""

    def __init__(self, base, cookie=None, token=None):
        self.base = base.rstrip("/")
        self.headers = {}
        if cookie:
            self.headers["Cookie"] = cookie
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def call(self, method, path, body=None, **params):
        if body is None and method != "GET":
            body = {}  # a JSON request: what a cookie session must send to change anything
        return requests.request(method, f"{self.base}/{path.lstrip('/')}", json=body, params=params, headers=self.headers, timeout=30)

    def get(self, path, **params):
        return self.call("GET", path, **params)

    def until(self, path, ok, what, timeout=60.0, **params):
        """GETs `path` until `ok(response)` holds (503: the event store query still runs)."""
        deadline = time.monotonic() + timeout
        while True:
            resp = self.get(path, **params)
            if resp.status_code == 200 and ok(resp):
                return resp
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}: {resp.status_code} {resp.text[:500]}")
            time.sleep(0.5)


def session_cookie(resp):
    set_cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie and "Secure" in set_cookie and "SameSite=Strict" in set_cookie, set_cookie
    return set_cookie.split(";")[0]


def sign_in(stack, email, password):
    resp = requests.post(stack["API"] + "auth/login/", json={"email": email, "password": password}, timeout=30)
    assert resp.status_code == 200, resp.text
    return Client(stack["API"], cookie=session_cookie(resp))


def invite_link(mail):
    """The invitation link in an invitation e-mail."""
    text = mail["BodyText"]
    return next(word for word in text.split() if "#/accept-invite/" in word)


def mails_to(stack, address):
    data = requests.get(stack["AWS_ENDPOINT_URL"] + "/_ministack/ses/messages", timeout=10).json()
    return [m for msgs in data["messages"].values() for m in msgs if address in m["To"]]


def test_sign_in_tokens_organizations_invitations_and_isolation(stack):
    owner = sign_in(stack, stack["LOGIN"], stack["PASSWORD"])
    me = owner.get("users/me/").json()
    assert me["email"] == stack["LOGIN"] and any(o["slug"] == stack["ORG"] for o in me["organizations"])
    wrong = requests.post(stack["API"] + "auth/login/", json={"email": stack["LOGIN"], "password": "not it"}, timeout=30)
    assert wrong.status_code == 401

    # A read-only token: it reads, it cannot change, and it cannot mint tokens.
    created = owner.call("POST", "api-tokens/", {"name": "e2e", "scopes": ["event:read", "project:read"]})
    assert created.status_code == 201, created.text
    reader = Client(stack["API"], token=created.json()["token"])
    assert reader.get(f"projects/{stack['ORG']}/{stack['PROJECT']}/issues/").status_code == 200
    assert reader.call("POST", "api-tokens/", {"scopes": ["event:admin"]}).status_code == 403
    assert reader.call("POST", "organizations/", {"name": "nope"}).status_code == 403

    # A new organization and project, with a DSN that the real SDK sends to.
    tag = new_tag()
    org = owner.call("POST", "organizations/", {"name": f"E2E {tag}"})
    assert org.status_code == 201, org.text
    slug = org.json()["slug"]
    assert owner.call("POST", "organizations/", {"name": f"E2E {tag}"}).status_code == 409
    project = owner.call("POST", f"organizations/{slug}/projects/", {"name": "Shop", "platform": "python"})
    assert project.status_code == 201, project.text
    keys = owner.get(f"projects/{slug}/shop/keys/").json()
    dsn = keys[0]["dsn"]["public"]
    send(dsn, tag, "shop@1", "production", f"checkout failed {tag}")
    issue = owner.until(f"projects/{slug}/shop/issues/", lambda r: len(r.json()) == 1, "the new project's issue").json()[0]

    # Invite someone; the e-mail arrives through the notifier and SES.
    invitee = f"{tag}@example.test"
    invite = owner.call("POST", f"organizations/{slug}/members/", {"email": invitee, "role": "member"})
    assert invite.status_code == 201, invite.text
    assert "accept-invite" not in invite.text, "the link goes only to the invited address"
    deadline = time.monotonic() + 60
    while not mails_to(stack, invitee):
        assert time.monotonic() < deadline, "no invitation e-mail"
        time.sleep(0.5)
    mail = mails_to(stack, invitee)[0]
    link = invite_link(mail)
    assert f"E2E {tag}" in mail["Subject"] and link.startswith(stack["WEB"] + "#/accept-invite/"), mail
    token = link.rsplit("/", 1)[1]
    accepted = requests.post(stack["API"] + "accept-invite/", json={"token": token, "password": "a long password", "name": "Zed"}, timeout=30)
    assert accepted.status_code == 200, accepted.text
    member = Client(stack["API"], cookie=session_cookie(accepted))

    # The new member sees their organization's issue and nothing of the demo organization.
    assert member.get(f"issues/{issue['id']}/").status_code == 200
    assert member.get(f"projects/{stack['ORG']}/{stack['PROJECT']}/issues/").status_code == 404
    assert member.get(f"organizations/{stack['ORG']}/").status_code == 404
    demo_issues = owner.get(f"projects/{stack['ORG']}/{stack['PROJECT']}/issues/", query="").json()
    if demo_issues:
        assert member.get(f"issues/{demo_issues[0]['id']}/").status_code == 404
    # …and cannot do what members may not.
    assert member.call("PUT", f"organizations/{slug}/", {"name": "mine"}).status_code == 403
    assert member.call("POST", f"projects/{slug}/shop/keys/", {"name": "x"}).status_code == 403
    assert member.call("PUT", f"issues/{issue['id']}/", {"status": "resolved"}).status_code == 200

    # Keys: rotate disables the old one, whose events are then refused.
    rotated = owner.call("POST", f"projects/{slug}/shop/keys/{keys[0]['id']}/rotate/")
    assert rotated.status_code == 201, rotated.text
    listed = {k["id"]: k["isActive"] for k in owner.get(f"projects/{slug}/shop/keys/").json()}
    assert listed == {keys[0]["id"]: False, rotated.json()["id"]: True}

    # Signing out ends the session.
    assert owner.call("DELETE", "auth/").status_code == 204
    assert owner.get("users/me/").status_code == 401


@pytest.fixture(scope="module")
def searched(stack):
    """Three issues with a tag, release and environment of their own, sent by the SDK."""
    tag = new_tag()
    send(stack["DSN"], tag, f"rel-{tag}", f"env-{tag}", f"first {tag}", f"second {tag}", f"second {tag}", f"third {tag}")
    api = Client(stack["API"], token=stack["TOKEN"])
    path = f"projects/{stack['ORG']}/{stack['PROJECT']}/issues/"
    issues = api.until(path, lambda r: sum(int(i["count"]) for i in r.json()) == 4, "4 events in 3 issues", query=f'"{tag}"').json()
    assert len(issues) == 3, issues
    return api, path, tag, issues


def test_search_sorts_and_pages(stack, searched):
    api, path, tag, issues = searched
    by_freq = api.get(path, query=f'"{tag}"', sort="freq").json()
    assert [i["count"] for i in by_freq] == ["2", "1", "1"]
    # Pages of one, by cursor, cover the three once.
    seen, cursor = [], None
    for _ in range(4):
        resp = api.get(path, query=f'"{tag}"', limit=1, **({"cursor": cursor} if cursor else {}))
        seen += [i["id"] for i in resp.json()]
        nxt = [p for p in resp.headers["Link"].split(", <") if 'rel="next"' in p][0]
        if 'results="true"' not in nxt:
            break
        cursor = nxt.rsplit('cursor="', 1)[1].rstrip('"')
    assert sorted(seen) == sorted(i["id"] for i in issues)
    # Terms on the issue, and terms over the event store (tag and release).
    assert len(api.get(path, query=f'environment:env-{tag} "{tag}"').json()) == 3
    assert len(api.get(path, query=f'!environment:env-{tag} "{tag}"').json()) == 0
    assert len(api.get(path, query=f'"second {tag}" timesSeen:>1').json()) == 1
    found = api.until(path, lambda r: len(r.json()) == 3, "tag search", query=f"e2etag:{tag}").json()
    assert {i["id"] for i in found} == {i["id"] for i in issues}
    found = api.until(path, lambda r: len(r.json()) == 3, "release search", query=f"release:rel-{tag}").json()
    assert len(found) == 3
    assert len(api.until(path, lambda r: True, "negated tag", query=f'!e2etag:{tag} "{tag}"').json()) == 0
    bad = api.get(path, query="is:nonsense")
    assert bad.status_code == 400 and "is" in bad.json()["detail"]


def test_counts_tags_releases_and_environments(stack, searched):
    api, path, tag, issues = searched
    second = next(i for i in issues if i["title"].startswith("RuntimeError: second"))
    listed = api.until(path, lambda r: "stats" in r.json()[0] and r.json()[0]["stats"], "sparklines", query=f'"second {tag}"', statsPeriod="24h").json()
    series = listed[0]["stats"]["24h"]
    assert len(series) == 24 and sum(n for _, n in series) == 2, series
    stats = api.until(f"issues/{second['id']}/stats/", lambda r: True, "issue stats", statsPeriod="24h").json()
    assert sum(n for _, n in stats) == 2
    tags = api.until(f"issues/{second['id']}/tags/", lambda r: True, "issue tags").json()
    e2e = next(t for t in tags if t["key"] == "e2etag")
    assert e2e["topValues"][0]["value"] == tag and e2e["topValues"][0]["count"] == 2
    assert any(t["key"] == "release" and t["topValues"][0]["value"] == f"rel-{tag}" for t in tags)
    # Event-store answers are cached a minute: an answer from before these events may come first.
    project = f"projects/{stack['ORG']}/{stack['PROJECT']}"
    releases = api.until(f"{project}/releases/", lambda r: any(x["version"] == f"rel-{tag}" for x in r.json()), "the release", timeout=90).json()
    assert any(r["version"] == f"rel-{tag}" and r["eventCount"] == 4 for r in releases), releases
    api.until(f"{project}/environments/", lambda r: any(e["name"] == f"env-{tag}" for e in r.json()), "the environment", timeout=90)
    keys = api.until(f"{project}/tags/", lambda r: any(k["key"] == "e2etag" for k in r.json()), "project tag keys", timeout=90).json()
    e2e = next(k for k in keys if k["key"] == "e2etag")
    assert e2e["uniqueValues"] >= 1 and e2e["totalValues"] >= 4, e2e
    event = api.get(f"issues/{second['id']}/events/latest/").json()
    older = api.get(f"issues/{second['id']}/events/{event['previousEventID']}/").json()
    assert (event["nextEventID"], older["nextEventID"], older["previousEventID"]) == (None, event["eventID"], None)
    info = api.get(f"issues/{second['id']}/grouping-info/").json()
    assert info["variant"] and info["hash"] and info["components"]


def test_assign_resolve_and_delete(stack, searched):
    api, path, tag, issues = searched
    first = next(i for i in issues if i["title"].startswith("RuntimeError: first"))
    resp = api.call("PUT", f"issues/{first['id']}/", {"assignedTo": stack["LOGIN"]})
    assert resp.status_code == 200 and resp.json()["assignedTo"]["email"] == stack["LOGIN"]
    assert [i["id"] for i in api.get(path, query=f'assigned:{stack["LOGIN"]} "{tag}"').json()] == [first["id"]]
    bulk = api.call("PUT", path, {"status": "resolved"}, id=[i["id"] for i in issues])
    assert bulk.status_code == 200 and bulk.json()["status"] == "resolved"
    assert api.get(path, query=f'is:unresolved "{tag}"').json() == []
    assert len(api.get(path, query=f'is:resolved "{tag}"').json()) == 3
    assert api.call("DELETE", f"issues/{first['id']}/").status_code == 202
    assert api.get(f"issues/{first['id']}/").status_code == 404
