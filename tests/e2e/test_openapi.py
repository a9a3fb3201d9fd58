"""The OpenAPI document (docs/openapi.json) against the route table and the running API: every
route is documented once with its access and scope, and every GET the stack's token can make
answers the documented status with a body the documented schema accepts."""

import json
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from helpers import new_tag, wait_for_issues

ROOT = Path(__file__).resolve().parents[2]
DOC_FILE = ROOT / "docs" / "openapi.json"
ROUTER = ROOT / "functions" / "api" / "src" / "router.rs"
DOC_URI = "urn:errata:openapi"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")

# GET operations this test cannot call with the stack's API token, and why. None: invitation
# details, which need a secret only an e-mail carries, are a POST now.
EXCLUDED = {}
# POST and PUT operations that read no body.
BODILESS = {"RotateKey"}
# How long a GET that answers 503 (an event-store query still running) is retried.
RETRY_503_SECS = 60.0

# A user's app: one exception with a unique type and tag, in a release and environment, so the
# issue, its event, tags, releases and environments routes all have something to show.
APP = textwrap.dedent(
    """
    import sys, sentry_sdk
    dsn, tag = sys.argv[1], sys.argv[2]
    sentry_sdk.init(dsn=dsn, release="openapi@" + tag, environment="openapi")
    sentry_sdk.set_tag("openapi_check", tag)
    sentry_sdk.set_user({"id": "u-" + tag, "email": tag + "@example.com"})

    def check():
        raise type("OpenApiCheck" + tag, (Exception,), {})("openapi check " + tag)

    try:
        check()
    except Exception as e:
        with sentry_sdk.new_scope() as scope:
            scope.add_attachment(bytes=b"openapi " + tag.encode(), filename="check.txt", content_type="text/plain")
            print(sentry_sdk.capture_exception(e))
    sentry_sdk.flush(timeout=10)
    """
)


# ---------------------------------------------------------------------------- the document


@pytest.fixture(scope="module")
def doc():
    return json.loads(DOC_FILE.read_text())


@pytest.fixture(scope="module")
def registry(doc):
    return Registry().with_resource(DOC_URI, Resource.from_contents(doc, default_specification=DRAFT202012))


def pointer(*parts):
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def deref(doc, node):
    """Follows a local `$ref` (responses, parameters) to what it names."""
    while isinstance(node, dict) and "$ref" in node:
        assert node["$ref"].startswith("#/"), node["$ref"]
        target = doc
        for part in node["$ref"][2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def operations(doc):
    """(method, path, operation) for every operation of the document."""
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield method, path, op


def success(op):
    """The operation's usual success (its lowest 2xx: 201 before an idempotent repeat's 208)."""
    status, response = min((s, r) for s, r in op["responses"].items() if s.startswith("2"))
    return int(status), response


def assert_valid(registry, schema_pointer, body, what):
    validator = Draft202012Validator({"$ref": f"{DOC_URI}#{schema_pointer}"}, registry=registry)
    error = best_match(validator.iter_errors(body))
    assert error is None, f"{what}: {error.message} at {list(error.absolute_path)} (schema {list(error.absolute_schema_path)})"


def response_schema_pointer(doc, method, path, status):
    """The JSON pointer of the schema of a documented response (through a `$ref` to components)."""
    response = doc["paths"][path][method]["responses"][str(status)]
    if "$ref" in response:
        base = response["$ref"][1:]
        response = deref(doc, response)
    else:
        base = pointer("paths", path, method, "responses", str(status))
    assert "application/json" in response.get("content", {}), f"{method} {path} {status} documents no JSON body"
    return base + pointer("content", "application/json", "schema")


def route_table():
    """(method, path, access, scope, op) from `ROUTES` in router.rs."""
    text = ROUTER.read_text()
    table = text[text.index("pub const ROUTES"):]
    table = table[: table.index("\n];")]
    # rustfmt may spread a long entry over several lines.
    rows = re.findall(
        r'\br\(\s*"(\w+)",\s*"([^"]+)",\s*(Public|User|[OPI]\((?:M|Admin|Owner)\)),\s*"([^"]*)",\s*Op::(\w+),?\s*\)', table
    )
    assert len(rows) == len(re.findall(r"\br\(", table)), "every entry of ROUTES was understood"
    return rows


def access_name(access):
    if access in ("Public", "User"):
        return access.lower()
    kind = {"O": "org", "P": "project", "I": "issue"}[access[0]]
    role = {"M": "member", "Admin": "admin", "Owner": "owner"}[access[2:-1]]
    return f"{kind}:{role}"


def test_document_lists_exactly_the_route_table(doc):
    assert doc["openapi"] == "3.1.0"
    routes = route_table()
    documented = {(m, p): op for m, p, op in operations(doc)}
    expected = {(m.lower(), f"/api/0/{p}/") for m, p, *_ in routes}
    assert set(documented) == expected, (
        f"missing: {sorted(expected - set(documented))}; not routes: {sorted(set(documented) - expected)}"
    )
    operation_ids = [op["operationId"] for op in documented.values()]
    assert len(set(operation_ids)) == len(operation_ids)
    for method, path, access, scope, op_name in routes:
        op = documented[(method.lower(), f"/api/0/{path}/")]
        where = f"{method} {path}"
        assert op["operationId"] == op_name[0].lower() + op_name[1:], where
        assert op["x-errata-access"] == access_name(access), where
        assert op["x-errata-scope"] == scope, where
        assert op["summary"] and "\n" not in op["summary"], where
        assert (op.get("security") == []) == (access == "Public"), where
        params = [deref(doc, p) for p in op.get("parameters", [])]
        path_params = [p["name"] for p in params if p["in"] == "path"]
        assert path_params == re.findall(r"\{(\w+)\}", path), where
        assert all(p["required"] for p in params if p["in"] == "path"), where
        # Every POST and PUT takes a JSON body but rotating a key; GET and DELETE take none.
        takes_body = method in ("POST", "PUT") and op_name not in BODILESS
        assert ("requestBody" in op) == takes_body, where
        if takes_body:
            # JSON, but chunks of debug files, which sentry-cli sends as multipart.
            kind = "multipart/form-data" if op_name == "ChunkUpload" else "application/json"
            assert kind in op["requestBody"]["content"], where
        success(op)  # exactly one success status
        for code, response in op["responses"].items():
            if int(code) >= 400:
                schema = deref(doc, response)["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, f"{where} {code}"
        assert "503" in op["responses"], where
        # Every credential check is throttled: public ones by what they check, the rest by address.
        assert "429" in op["responses"], where
        if access != "Public":
            assert "401" in op["responses"], where
    # Every schema is a valid 2020-12 schema and every reference resolves.
    for schema in doc["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    refs = set(re.findall(r'"\$ref": "([^"]+)"', DOC_FILE.read_text()))
    for ref in refs:
        assert ref.startswith("#/"), ref
        deref(doc, {"$ref": ref})
    assert doc["components"]["schemas"]["Error"]["required"] == ["detail"]


# ---------------------------------------------------------------------------- the running API


@pytest.fixture(scope="module")
def seeded(stack, api):
    """An issue of the demo project with a fresh event from the real SDK, its latest event id,
    and the project's first DSN key."""
    tag = new_tag()
    out = subprocess.run([sys.executable, "-c", APP, stack["DSN"], tag], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    sent_id = out.stdout.strip().splitlines()[-1]
    [issue] = wait_for_issues(api, stack, f"openapi check {tag}", 1)
    latest = api.wait_for(
        lambda: (lambda r: r.json() if r.status_code == 200 else None)(api.get(f"issues/{issue['id']}/events/latest/")),
        "the issue's latest event",
    )
    assert latest["eventID"] == sent_id
    keys = api.get(f"projects/{stack['ORG']}/{stack['PROJECT']}/keys/")
    assert keys.status_code == 200, keys.text
    assert keys.json(), "the demo project has a DSN key"
    rule = api.session.post(
        f"{api.base}/projects/{stack['ORG']}/{stack['PROJECT']}/rules/",
        json={"name": f"openapi {tag}", "conditions": [{"id": "first_seen"}],
              "actions": [{"id": "email", "addresses": ["openapi@example.test"]}], "frequency": 30},
        timeout=30,
    )
    assert rule.status_code == 201, rule.text
    release = api.session.post(f"{api.base}/organizations/{stack['ORG']}/releases/",
                               json={"version": f"openapi@{tag}", "projects": [stack["PROJECT"]]}, timeout=30)
    assert release.status_code == 201, release.text
    return {"tag": tag, "issue_id": issue["id"], "event_id": latest["eventID"], "key_id": keys.json()[0]["id"],
            "rule_id": rule.json()["id"], "version": release.json()["version"]}


def path_values(stack, seeded):
    return {
        "org": stack["ORG"],
        "project": stack["PROJECT"],
        "issue_id": seeded["issue_id"],
        "event_id": seeded["event_id"],
        "key_id": seeded["key_id"],
        "filter_id": "localhost",
        "key": "level",
        "member_id": stack["LOGIN"],
        "rule_id": seeded["rule_id"],
        "attachment_id": "0",
        "version": seeded["version"],
    }


# Values for query parameters an operation requires.
REQUIRED_QUERY = {"project": lambda stack: stack["PROJECT_ID"], "field": lambda stack: "sum(session)"}


def url_of(stack, path, values):
    """The URL of a documented path with its parameters filled (percent-encoded)."""
    def fill(m):
        return quote(str(values[m.group(1)]), safe="")

    assert path.startswith("/api/0/"), path
    return stack["API"] + re.sub(r"\{(\w+)\}", fill, path[len("/api/0/"):])


def call(session, method, url, params=None, retry_503=True, **kwargs):
    """A request; a 503 (event-store query still running) is retried for up to a minute."""
    deadline = time.monotonic() + RETRY_503_SECS
    while True:
        resp = session.request(method, url, params=params, timeout=60, **kwargs)
        if resp.status_code != 503 or not retry_503 or time.monotonic() > deadline:
            return resp
        time.sleep(1.0)


def check_success(doc, registry, api, method, path, url, params, what):
    op = doc["paths"][path][method]
    status, response = success(op)
    resp = call(api.session, method.upper(), url, params)
    assert resp.status_code == status, f"{what}: {resp.status_code} {resp.text[:500]}"
    if "content" in response:
        assert_valid(registry, response_schema_pointer(doc, method, path, status), resp.json(), what)
    if "Link" in response.get("headers", {}):
        assert 'rel="next"' in resp.headers.get("Link", ""), f"{what}: no Link header"
    return resp


def test_every_get_answers_its_documented_shape(doc, registry, api, stack, seeded):
    values = path_values(stack, seeded)
    checked, skipped = [], []
    for method, path, op in operations(doc):
        if method != "get":
            continue
        if (method, path) in EXCLUDED:
            skipped.append(path)
            continue
        missing = [n for n in re.findall(r"\{(\w+)\}", path) if n not in values]
        assert not missing, f"GET {path}: no value for {missing}; fill it or list the route in EXCLUDED"
        params = {}
        for p in map(lambda p: deref(doc, p), op.get("parameters", [])):
            if p["in"] == "query" and p.get("required"):
                assert p["name"] in REQUIRED_QUERY, f"GET {path}: no value for required ?{p['name']}"
                params[p["name"]] = REQUIRED_QUERY[p["name"]](stack)
        check_success(doc, registry, api, method, path, url_of(stack, path, values), params, f"GET {path}")
        checked.append(op["operationId"])
    print(f"\n{len(checked)} GET operations checked against the document; excluded: {skipped}")
    assert len(checked) >= 25, checked
    assert set(skipped) == {p for (_, p) in EXCLUDED}


# Variants that reach other branches of the documented shapes.
VARIANTS = [
    ("/api/0/projects/{org}/{project}/issues/", {"statsPeriod": "24h", "sort": "freq", "limit": "5"}),
    ("/api/0/projects/{org}/{project}/issues/", {"query": "openapi_check:{tag}"}),
    ("/api/0/organizations/{org}/issues/", {"project": "{PROJECT_ID}", "statsPeriod": "14d", "sort": "new"}),
    ("/api/0/issues/{issue_id}/events/", {"full": "true", "sort": "oldest"}),
    ("/api/0/projects/{org}/{project}/stats/", {"statsPeriod": "14d", "stat": "transactions"}),
    ("/api/0/issues/{issue_id}/stats/", {"statsPeriod": "30d"}),
    ("/api/0/issues/{issue_id}/tags/{key}/values/", {"limit": "1"}),
    ("/api/0/projects/{org}/{project}/tags/", {"limit": "1"}),
    ("/api/0/organizations/{org}/sessions/", {
        "project": "{PROJECT_ID}",
        "field": ["sum(session)", "crash_free_rate(session)"],
        "groupBy": ["release", "environment"],
        "statsPeriod": "2d",
        "interval": "6h",
    }),
]


def test_variants_answer_their_documented_shape(doc, registry, api, stack, seeded):
    values = path_values(stack, seeded)

    def expand(v):
        if isinstance(v, list):
            return [expand(x) for x in v]
        return v.replace("{PROJECT_ID}", stack["PROJECT_ID"]).replace("{tag}", seeded["tag"])

    for path, params in VARIANTS:
        params = {k: expand(v) for k, v in params.items()}
        resp = check_success(doc, registry, api, "get", path, url_of(stack, path, values), params,
                             f"GET {path} {params}")
        if "openapi_check" in str(params.get("query")):
            assert [i["id"] for i in resp.json()] == [seeded["issue_id"]]


def assert_documented_error(doc, registry, resp, method, path, status, what):
    assert resp.status_code == status, f"{what}: {resp.status_code} {resp.text[:500]}"
    if path is None:
        pointer_ = "/components/schemas/Error"
    else:
        assert str(status) in doc["paths"][path][method]["responses"], f"{what}: {status} is not documented"
        pointer_ = response_schema_pointer(doc, method, path, status)
    assert_valid(registry, pointer_, resp.json(), what)


def test_unknown_paths_methods_and_credentials(doc, registry, api, stack, seeded):
    resp = call(api.session, "GET", stack["API"] + "nope/")
    assert "/api/0/nope/" not in doc["paths"]
    assert_documented_error(doc, registry, resp, "get", None, 404, "GET /api/0/nope/")
    # A documented path with a method it does not have.
    assert "patch" not in doc["paths"]["/api/0/issues/{issue_id}/"]
    resp = call(api.session, "PATCH", stack["API"] + f"issues/{seeded['issue_id']}/", json={})
    assert_documented_error(doc, registry, resp, "patch", None, 405, "PATCH /api/0/issues/{issue_id}/")
    # No credentials.
    resp = requests.get(stack["API"] + "users/me/", timeout=30)
    assert_documented_error(doc, registry, resp, "get", "/api/0/users/me/", 401, "GET users/me/ without credentials")


def test_malformed_requests_answer_a_documented_400(doc, registry, api, stack, seeded):
    """One malformed request per method; none of them changes anything."""
    values = path_values(stack, seeded)
    cases = [
        ("get", "/api/0/projects/{org}/{project}/issues/", {"sort": "bogus"}, None),
        ("post", "/api/0/projects/{org}/{project}/keys/", None, {"name": "never made", "bogus": True}),
        ("put", "/api/0/issues/{issue_id}/", None, {"status": "bogus"}),
        ("delete", "/api/0/projects/{org}/{project}/issues/", None, None),  # no id=
    ]
    for method, path, params, body in cases:
        op = doc["paths"][path][method]
        if body is not None:
            # The document refuses the body too.
            schema_pointer = pointer("paths", path, method, "requestBody", "content", "application/json", "schema")
            validator = Draft202012Validator({"$ref": f"{DOC_URI}#{schema_pointer}"}, registry=registry)
            assert not validator.is_valid(body), f"{method} {path}: the document accepts {body}"
        resp = call(api.session, method.upper(), url_of(stack, path, values), params, json=body)
        assert_documented_error(doc, registry, resp, method, path, 400, f"{method.upper()} {path} {op['operationId']}")


def test_attachments_download_as_files(api, stack, seeded):
    base = f"projects/{stack['ORG']}/{stack['PROJECT']}/events/{seeded['event_id']}/attachments/"
    [listed] = api.get(base).json()
    assert (listed["name"], listed["size"], listed["mimetype"]) == ("check.txt", len("openapi ") + len(seeded["tag"]), "text/plain")
    resp = api.get(f"{base}0/", download="1")
    assert resp.status_code == 200, resp.text
    assert resp.content == f"openapi {seeded['tag']}".encode()
    assert resp.headers["Content-Type"] == "application/octet-stream"
    assert resp.headers["Content-Disposition"] == 'attachment; filename="check.txt"'
    assert api.get(f"{base}7/").status_code == 404
