"""Local-stack chores the CDK deploy cannot do, through the AWS API (boto3).

  stack.py has-stack NAME   exit 0 when the CloudFormation stack exists
  stack.py post-deploy      what the emulator's CloudFormation drops: DynamoDB TTL, the HTTP
                            API's CORS configuration (taken from the synthesized template);
                            the local DSN and web URLs of the functions; then upload web/dist
                            and its config.json to the web bucket
  stack.py outputs          print the stack outputs as KEY=VALUE lines
  stack.py setup-secret     print the deploy's one-time first-run setup secret
  stack.py first-run EMAIL PASSWORD ORG PROJECT
                            first-run setup through the API with that secret (409: already set up)
"""

import json
import mimetypes
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("ERRATA_STATE", ROOT / ".errata"))
STACK = os.environ.get("ERRATA_STACK", "errata")
ENDPOINT = os.environ["AWS_ENDPOINT_URL"]


def client(service):
    return boto3.client(service, endpoint_url=ENDPOINT, config=Config(s3={"addressing_style": "path"}))


def outputs():
    data = json.loads((STATE / "outputs.json").read_text())
    return data[STACK]


def has_stack(name):
    try:
        stacks = client("cloudformation").describe_stacks(StackName=name)["Stacks"]
    except Exception:
        return False
    return any(not s["StackStatus"].startswith("DELETE") for s in stacks)


def ingest_url(out):
    """Ingest's function URL in the emulator's path form: `{endpoint}/_aws/lambda-url/{id}`."""
    url_id = out["IngestUrl"].split("//", 1)[1].split(".", 1)[0]
    return f"{ENDPOINT}/_aws/lambda-url/{url_id}"


def post_deploy():
    out = outputs()
    ddb = client("dynamodb")
    for table in (out["EventsTable"], out["QuotasTable"], out["DirectoryTable"]):
        ttl = ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
        if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"})
        print(f"ok: TTL on {table}.expires_at")

    # MiniStack's CloudFormation keeps CorsConfiguration in CloudFormation's casing, which its
    # API Gateway does not read: set the same configuration through the API.
    template = json.loads((ROOT / "infra" / "cdk" / "cdk.out" / f"{STACK}.template.json").read_text())
    cors = next(
        r["Properties"]["CorsConfiguration"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::ApiGatewayV2::Api" and "CorsConfiguration" in r["Properties"]
    )
    client("apigatewayv2").update_api(ApiId=out["ApiId"], CorsConfiguration=cors)
    print(f"ok: CORS on API {out['ApiId']}")

    # DSNs and the API's base: the emulator's hosts (`{id}.lambda-url.…`, `{id}.execute-api.…`)
    # do not resolve for every SDK, their path forms do. Only these deploy parameters differ
    # from AWS.
    public_url = f"{ENDPOINT}/_aws/execute-api/{out['ApiId']}"
    dsn_url = ingest_url(out)
    # Links in API answers and e-mails (issues, invitations, muting a rule) open the web app
    # from its bucket; its routes follow the `#`.
    web_url = f"{ENDPOINT}/{out['WebBucket']}/index.html#"
    lam = client("lambda")
    for function, wanted in (
        (out["ApiFunction"], {"PUBLIC_URL": public_url, "DSN_URL": dsn_url, "WEB_URL": web_url}),
        (out["ProcessorFunction"], {"WEB_URL": web_url}),
    ):
        env = lam.get_function_configuration(FunctionName=function)["Environment"]["Variables"]
        if any(env.get(k) != v for k, v in wanted.items()):
            env.update(wanted)
            lam.update_function_configuration(FunctionName=function, Environment={"Variables": env})
    print(f"ok: DSNs on {dsn_url}; the API on {public_url}; links to {web_url}")

    s3 = client("s3")
    bucket = out["WebBucket"]
    dist = ROOT / "web" / "dist"
    files = [p for p in dist.rglob("*") if p.is_file()]
    for path in files:
        key = path.relative_to(dist).as_posix()
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        # Names are not content-hashed: browsers revalidate (ETag) instead of guessing freshness.
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType=kind, CacheControl="no-cache")
    config = {"api": f"/_aws/execute-api/{out['ApiId']}", "org": os.environ.get("ERRATA_ORG", "demo"), "project": os.environ.get("ERRATA_PROJECT", "demo")}
    s3.put_object(Bucket=bucket, Key="config.json", Body=json.dumps(config).encode(), ContentType="application/json",
                  CacheControl="no-cache")
    print(f"ok: web app ({len(files)} files) in s3://{bucket}")


def setup_secret():
    """The deploy's one-time first-run secret (Secrets Manager), as an operator reads it."""
    arn = outputs()["SetupSecretArn"]
    return client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]


def first_run(email, password, org, project):
    """First-run setup through the API with the setup secret, as a new operator would do it
    from the web app; a stack already set up answers 409 and is left as it is."""
    out = outputs()
    url = f"{ENDPOINT}/_aws/execute-api/{out['ApiId']}/api/0/setup/"
    body = {"email": email, "password": password, "name": email, "setupSecret": setup_secret(),
            "organization": {"slug": org}, "project": {"slug": project}}
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            print(f"ok: first-run setup ({resp.status}): {email} owns {org}/{project}")
    except urllib.error.HTTPError as e:
        if e.code != 409:
            raise SystemExit(f"first-run setup failed: {e.code} {e.read().decode()[:500]}")
        print("ok: already set up")


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "has-stack":
        sys.exit(0 if has_stack(sys.argv[2]) else 1)
    elif cmd == "post-deploy":
        post_deploy()
    elif cmd == "setup-secret":
        print(setup_secret())
    elif cmd == "first-run":
        first_run(*sys.argv[2:6])
    elif cmd == "outputs":
        for k, v in outputs().items():
            print(f"{k}={v}")
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
