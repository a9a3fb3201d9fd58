"""The Terraform module and the synthesized CDK template declare the same Errata: functions,
their environment variables (what each points at, and the value of those both sides set to a
literal or a variable's default), each function's reserved concurrency, queues and dead-letter
queues, the mappings that feed queues to functions (batch size and window, per-message
failures, maximum concurrency), an alarm on every dead-letter queue and function, tables (keys,
indexes, TTL), buckets (versioning, access logs), IAM actions per function, resource by
resource and with their conditions (the `s3:prefix` a listing is scoped to), and the settings
of the Athena workgroup, the web app's response headers and the setup secret. Terraform cannot
run here, so this reads both statically: the CDK template as JSON, the module's HCL with
python-hcl2 (resolving the module's own `local.*` values and variables' defaults). Values come
from the defaults on both sides: the template is synthesized without inputs.

    python parity.py TEMPLATE.json TERRAFORM_DIR
"""

import json
import re
import sys
from pathlib import Path

import hcl2

FUNCTIONS = {"ingest", "processor", "symbolicator", "api", "notifier"}

# --- the CDK side --------------------------------------------------------------------------


def snake(name):
    """A CDK construct id as Terraform names the same thing: LargeEnvelopes, large_envelopes."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


CDK_IDS = [
    (r"^Errata(Directory|Issues|Events|Quotas)[0-9A-F]{8}$", lambda m: f"table:{m[1].lower()}"),
    (r"^Errata(RawPayloads|EventData|DebugFiles|WebApp|AccessLogs)[0-9A-F]{8}$",
     lambda m: "bucket:" + {"RawPayloads": "raw", "EventData": "events", "DebugFiles": "debug_files", "WebApp": "web", "AccessLogs": "access_logs"}[m[1]]),
    (r"^Errata(Envelopes|LargeEnvelopes|Symbolication|Notifications)(Dlq)?[0-9A-F]{8}$",
     lambda m: f"{'dlq' if m[2] else 'queue'}:{snake(m[1])}"),
    (r"^ErrataAthenaWorkGroup", lambda m: "athena"),
    (r"^ErrataGlueDatabase", lambda m: "glue"),
    (r"^ErrataSenderIdentity", lambda m: "ses"),
    (r"^ErrataWeb[0-9A-F]{8}$", lambda m: "web"),
    (r"^ErrataHttpApi[0-9A-F]{8}$", lambda m: "api"),
    (r"^ErrataIngestFunctionFunctionUrl[0-9A-F]{8}$", lambda m: "ingest_url"),
    (r"^ErrataSetupSecret[0-9A-F]{8}$", lambda m: "setup_secret"),
]


def cdk_name(logical_id):
    for pattern, name in CDK_IDS:
        m = re.match(pattern, logical_id)
        if m:
            return name(m)
    return None


def cdk_refs(value):
    """Logical ids a template value refers to, in order."""
    if isinstance(value, dict):
        if "Ref" in value:
            return [value["Ref"]]
        if "Fn::GetAtt" in value:
            return [value["Fn::GetAtt"][0]]
        return [r for v in value.values() for r in cdk_refs(v)]
    if isinstance(value, list):
        return [r for v in value for r in cdk_refs(v)]
    return []


def cdk_literal_tail(value):
    """The literal text after the last reference of a Fn::Join (`/index/*`, `/events`)."""
    if isinstance(value, dict) and "Fn::Join" in value:
        parts = value["Fn::Join"][1]
        tail = ""
        for p in reversed(parts):
            if isinstance(p, str):
                tail = p + tail
            else:
                break
        return tail
    return ""


def arn_kind(text):
    """`athena:workgroup`, `glue:catalog`… from the literal text of an ARN."""
    m = re.search(r":(athena|glue|ses):[^:]*:[^:]*:(\w+)", text)
    return f"{m[1]}:{m[2]}" if m else None


def cdk_resource_key(res):
    literal = json.dumps(res)
    kind = arn_kind(" ".join(p for p in res["Fn::Join"][1] if isinstance(p, str))) if isinstance(res, dict) and "Fn::Join" in res else None
    names = [n for n in map(cdk_name, cdk_refs(res)) if n]
    tail = cdk_literal_tail(res)
    if kind:
        return kind + (tail if tail.startswith("/") else "")
    if names:
        return names[0] + tail
    return literal


def cdk_text(value):
    """A template string with each reference written `{name}` (`connect-src 'self' {api}`)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return sep.join(cdk_text(p) for p in parts)
    names = [n for n in map(cdk_name, cdk_refs(value)) if n]
    return "{" + (names[0] if names else json.dumps(value, sort_keys=True)) + "}"


def condition_key(condition, text):
    """One statement's conditions as a comparable string: operator, key, sorted values."""
    return json.dumps(
        {op: {k: sorted(text(v) for v in (vs if isinstance(vs, list) else [vs])) for k, vs in keys.items()} for op, keys in condition.items()},
        sort_keys=True,
    ) if condition else ""


def cdk_settings(res):
    """The Athena workgroup, the web app's response headers and the setup secret."""
    settings = {}
    for lid, r in res.items():
        props = r.get("Properties", {})
        if r["Type"] == "AWS::Athena::WorkGroup":
            config = props["WorkGroupConfiguration"]
            settings["athena"] = (config.get("EnforceWorkGroupConfiguration"), config.get("BytesScannedCutoffPerQuery"))
        if r["Type"] == "AWS::CloudFront::ResponseHeadersPolicy":
            h = props["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
            hsts = h.get("StrictTransportSecurity", {})
            settings["web_headers"] = (
                cdk_text(h.get("ContentSecurityPolicy", {}).get("ContentSecurityPolicy")),
                (hsts.get("AccessControlMaxAgeSec"), hsts.get("IncludeSubdomains"), hsts.get("Preload")),
                "ContentTypeOptions" in h,
                h.get("FrameOptions", {}).get("FrameOption"),
                h.get("ReferrerPolicy", {}).get("ReferrerPolicy"),
            )
        if r["Type"] == "AWS::SecretsManager::Secret" and cdk_name(lid) == "setup_secret":
            gen = props["GenerateSecretString"]
            alnum = gen.get("ExcludePunctuation") and not gen.get("IncludeSpace") and not any(
                gen.get(k) for k in ("ExcludeUppercase", "ExcludeLowercase", "ExcludeNumbers")
            )
            settings["setup_secret"] = (gen.get("PasswordLength"), "letters and digits" if alnum else "other")
    return settings


def cdk_value_kind(value):
    if isinstance(value, str):
        return "literal"
    names = [n for n in map(cdk_name, cdk_refs(value)) if n]
    return names[0] if names else "unknown"


def empty_model():
    return {
        "functions": {}, "env": set(), "env_values": {}, "concurrency": {}, "iam": set(), "managed": set(),
        "queues": {}, "mappings": {}, "alarms": set(), "tables": {}, "buckets": {}, "settings": {},
    }


def cdk_model(template):
    res = template["Resources"]
    model = empty_model()
    model["settings"] = cdk_settings(res)
    function_ids = {}
    for lid, r in res.items():
        props = r.get("Properties", {})
        if r["Type"] == "AWS::Lambda::Function" and str(props.get("Description", "")).startswith("Errata "):
            fn = props["Description"].split()[1]
            function_ids[lid] = fn
            role = props["Role"]["Fn::GetAtt"][0]
            model["functions"][fn] = role
            model["concurrency"][fn] = props.get("ReservedConcurrentExecutions")
            for key, value in props["Environment"]["Variables"].items():
                model["env"].add((fn, key, cdk_value_kind(value)))
                if isinstance(value, str):
                    model["env_values"][(fn, key)] = value
            for arn in res[role]["Properties"].get("ManagedPolicyArns", []):
                model["managed"].add((fn, json.dumps(arn).split("policy/")[-1].strip('"]} ')))
    for lid, r in res.items():
        if r["Type"] != "AWS::IAM::Policy":
            continue
        for fn, role in model["functions"].items():
            if any(x.get("Ref") == role for x in r["Properties"]["Roles"]):
                for st in r["Properties"]["PolicyDocument"]["Statement"]:
                    actions = [st["Action"]] if isinstance(st["Action"], str) else st["Action"]
                    resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
                    condition = condition_key(st.get("Condition"), cdk_text)
                    for a in actions:
                        for rr in resources:
                            model["iam"].add((fn, a, cdk_resource_key(rr), condition))
    for lid, r in res.items():
        name = cdk_name(lid)
        props = r.get("Properties", {})
        if r["Type"] == "AWS::SQS::Queue" and name:
            redrive = props.get("RedrivePolicy")
            model["queues"][name] = (
                (cdk_name(cdk_refs(redrive["deadLetterTargetArn"])[0]), redrive["maxReceiveCount"]) if redrive else None
            )
        if r["Type"] == "AWS::DynamoDB::Table" and name:
            keys = {k["KeyType"]: k["AttributeName"] for k in props["KeySchema"]}
            gsis = sorted(
                (g["IndexName"], tuple(k["AttributeName"] for k in g["KeySchema"])) for g in props.get("GlobalSecondaryIndexes", [])
            )
            ttl = props.get("TimeToLiveSpecification", {}).get("AttributeName")
            model["tables"][name] = (keys.get("HASH"), keys.get("RANGE"), tuple(gsis), ttl)
        if r["Type"] == "AWS::S3::Bucket" and name:
            versioned = props.get("VersioningConfiguration", {}).get("Status") == "Enabled"
            logged = "LoggingConfiguration" in props
            model["buckets"][name] = (versioned, logged)
        if r["Type"] == "AWS::Lambda::EventSourceMapping":
            queue = cdk_name(cdk_refs(props["EventSourceArn"])[0])
            model["mappings"][queue] = (
                function_ids.get(cdk_refs(props["FunctionName"])[0]),
                props.get("BatchSize"),
                props.get("MaximumBatchingWindowInSeconds", 0),
                tuple(props.get("FunctionResponseTypes", [])),
                props.get("ScalingConfig", {}).get("MaximumConcurrency"),
            )
        if r["Type"] == "AWS::CloudWatch::Alarm":
            dims = {d["Name"]: d["Value"] for d in props.get("Dimensions", [])}
            if props.get("MetricName") == "ApproximateNumberOfMessagesVisible":
                model["alarms"].add(cdk_name(cdk_refs(dims["QueueName"])[0]))
            if props.get("MetricName") == "Errors":
                model["alarms"].add(f"errors:{function_ids.get(cdk_refs(dims['FunctionName'])[0])}")
    return model


# --- the Terraform side ----------------------------------------------------------------------


def one(value):
    """python-hcl2 wraps each attribute's value in a one-element list."""
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def load_hcl(directory):
    blocks = {"resource": [], "data": [], "locals": {}, "variable": {}}
    for path in sorted(Path(directory).glob("*.tf")):
        with open(path) as fh:
            doc = hcl2.load(fh)
        for res in doc.get("resource", []):
            blocks["resource"].append(res)
        for data in doc.get("data", []):
            blocks["data"].append(data)
        for var in doc.get("variable", []):
            blocks["variable"].update(var)
        for loc in doc.get("locals", []):
            blocks["locals"].update({k: one(v) for k, v in loc.items()})
    return blocks


def resources_of(blocks, rtype, kind="resource"):
    out = {}
    for block in blocks[kind]:
        for t, named in block.items():
            if t == rtype:
                out.update(named)
    return out


def strip(s):
    return s[2:-1] if isinstance(s, str) and s.startswith("${") and s.endswith("}") else s


def resolve(value, loc):
    """A value with `${local.x}` lists spliced in."""
    if isinstance(value, str):
        inner = strip(value)
        if isinstance(inner, str) and re.fullmatch(r"local\.\w+", inner):
            return resolve(loc[inner.split(".")[1]], loc)
        return value
    if isinstance(value, list):
        out = []
        for v in value:
            r = resolve(v, loc)
            out.extend(r if isinstance(r, list) else [r])
        return out
    return value


TF_REFS = [
    (r"aws_dynamodb_table\.(\w+)", lambda m: f"table:{m[1]}"),
    (r"aws_s3_bucket\.(\w+)", lambda m: f"bucket:{m[1]}"),
    (r'aws_sqs_queue\.queue\["(\w+)"\]', lambda m: f"queue:{m[1]}"),
    (r'aws_sqs_queue\.dlq\["(\w+)"\]', lambda m: f"dlq:{m[1]}"),
    (r"aws_athena_workgroup\.", lambda m: "athena"),
    (r"aws_glue_catalog_database\.", lambda m: "glue"),
    (r"aws_sesv2_email_identity\.", lambda m: "ses"),
    (r"local\.links", lambda m: "web"),
    (r"local\.api_base", lambda m: "api"),
    (r"local\.dsn_base", lambda m: "ingest_url"),
    (r"aws_apigatewayv2_api\.http\.", lambda m: "api"),
    (r"aws_secretsmanager_secret(_version)?\.setup\b|random_password\.setup\b", lambda m: "setup_secret"),
]


def tf_name(text):
    for pattern, name in TF_REFS:
        m = re.search(pattern, text)
        if m:
            return name(m)
    return None


def tf_text(value, loc):
    """A value's text with each interpolation written `{name}`, as cdk_text writes references."""
    value = resolve(one(value), loc)
    return re.sub(r"\$\{([^}]*)\}", lambda m: "{" + (tf_name(m[1]) or m[1]) + "}", value) if isinstance(value, str) else value


def tf_var(value, blocks):
    """A value, or the default of the variable it names (`${var.x}`)."""
    value = one(value)
    m = re.fullmatch(r"\$\{var\.(\w+)\}", value) if isinstance(value, str) else None
    return one(blocks["variable"][m[1]]["default"]) if m else value


def tf_env_value(value, blocks):
    """An environment value as the module's defaults make it: a literal, a variable's default
    (`${var.x}`, `${tostring(var.x)}`), or None when it is computed (a reference, a condition)."""
    value = one(value)
    if not isinstance(value, str):
        return None
    m = re.fullmatch(r"\$\{(?:tostring\()?var\.(\w+)\)?\}", value)
    if m:
        default = one(blocks["variable"][m[1]].get("default"))
        return None if default is None or isinstance(default, (dict, list, bool)) else str(default)
    return None if "${" in value else value


def tf_settings(blocks):
    loc = blocks["locals"]
    settings = {}
    for w in resources_of(blocks, "aws_athena_workgroup").values():
        config = one(w["configuration"])
        settings["athena"] = (tf_var(config.get("enforce_workgroup_configuration"), blocks), tf_var(config.get("bytes_scanned_cutoff_per_query"), blocks))
    for p in resources_of(blocks, "aws_cloudfront_response_headers_policy").values():
        h = one(p["security_headers_config"])
        hsts = one(h.get("strict_transport_security", [{}]))
        settings["web_headers"] = (
            tf_text(one(h.get("content_security_policy", [{}])).get("content_security_policy"), loc),
            tuple(one(hsts.get(k)) for k in ("access_control_max_age_sec", "include_subdomains", "preload")),
            "content_type_options" in h,
            one(one(h.get("frame_options", [{}])).get("frame_option")),
            one(one(h.get("referrer_policy", [{}])).get("referrer_policy")),
        )
    setup = resources_of(blocks, "random_password").get("setup")
    if setup:
        alnum = one(setup.get("special")) is False and all(one(setup.get(k, [True])) is not False for k in ("upper", "lower", "numeric"))
        settings["setup_secret"] = (one(setup["length"]), "letters and digits" if alnum else "other")
    return settings


def tf_resource_key(text):
    kind = arn_kind(text)
    tail = re.sub(r".*\}", "", text) if "}" in text else ""
    if kind:
        return kind + (tail if tail.startswith("/") else "")
    name = tf_name(text)
    return (name + tail) if name else text


def tf_wired(resource, attribute, expected, where):
    """The expression a resource sets `attribute` to is `expected` (what the model then reads
    from locals, this checks the resource uses)."""
    got = one(resource.get(attribute))
    if got != expected:
        raise SystemExit(f"{where}: {attribute} is {got!r}, expected {expected!r}")


def tf_mappings(blocks, model):
    """The event source mappings: one per local.queues entry, its settings from that entry."""
    loc = blocks["locals"]
    mapping = resources_of(blocks, "aws_lambda_event_source_mapping")["queue"]
    where = "aws_lambda_event_source_mapping.queue"
    tf_wired(mapping, "for_each", "${local.queues}", where)
    tf_wired(mapping, "event_source_arn", "${aws_sqs_queue.queue[each.key].arn}", where)
    tf_wired(mapping, "function_name", "${aws_lambda_function.fn[each.value.consumer].arn}", where)
    tf_wired(mapping, "batch_size", "${each.value.batch_size}", where)
    tf_wired(mapping, "maximum_batching_window_in_seconds", "${each.value.window}", where)
    # The maximum concurrency: a scaling_config block for each entry that sets one.
    scaling = [d["scaling_config"] for d in mapping.get("dynamic", []) if "scaling_config" in d]
    # (python-hcl2 writes `null` back as `None` and quotes the list's element.)
    wired = bool(scaling) and re.fullmatch(
        r"\$\{each\.value\.max_concurrency == (null|None) \? \[\] : \['?\$?\{?each\.value\.max_concurrency\}?'?\]\}", one(scaling[0]["for_each"])
    ) and one(one(scaling[0]["content"])["maximum_concurrency"]) == "${scaling_config.value}"
    if not wired:
        raise SystemExit(f"{where}: scaling_config does not set maximum_concurrency from each.value.max_concurrency")
    responses = tuple(one(mapping["function_response_types"]))
    for q, settings in loc["queues"].items():
        model["mappings"][f"queue:{q}"] = (
            one(settings["consumer"]),
            tf_var(settings["batch_size"], blocks),
            tf_var(settings["window"], blocks),
            responses,
            tf_var(settings.get("max_concurrency"), blocks),
        )


def tf_alarms(blocks, model):
    """local.alarms: one per dead-letter queue (every local.queues key) and per function."""
    text = one(blocks["locals"]["alarms"])
    if "for q in keys(local.queues)" in text and "aws_sqs_queue.dlq[q].name" in text:
        model["alarms"].update(f"dlq:{q}" for q in blocks["locals"]["queues"])
    if "for fn in local.function_names" in text and "aws_lambda_function.fn[fn].function_name" in text:
        model["alarms"].update(f"errors:{fn}" for fn in blocks["locals"]["function_names"])


def tf_model(directory):
    blocks = load_hcl(directory)
    loc = blocks["locals"]
    model = empty_model()
    model["settings"] = tf_settings(blocks)
    for fn in loc["function_names"]:
        model["functions"][fn] = fn
    for fn, variables in loc["environment"].items():
        for key, value in variables.items():
            value = one(value)
            name = tf_name(value) if isinstance(value, str) and "${" in value else None
            model["env"].add((fn, key, name or "literal"))
            literal = tf_env_value(value, blocks)
            if literal is not None:
                model["env_values"][(fn, key)] = literal
    # Reserved concurrency: the defaults (var.functions is empty by default), which the
    # functions take from local.function_settings.
    fn_resource = resources_of(blocks, "aws_lambda_function")["fn"]
    tf_wired(fn_resource, "reserved_concurrent_executions", "${local.function_settings[each.key].reserved_concurrency}", "aws_lambda_function.fn")
    if one(blocks["variable"]["functions"].get("default")) not in ({}, None):
        raise SystemExit("var.functions has a default: the reservations below would not be the module's")
    for fn in loc["function_names"]:
        reserved = one(loc["function_defaults"][fn].get("reserved_concurrency"))
        model["concurrency"][fn] = None if reserved in (None, 0) else reserved
    tf_mappings(blocks, model)
    tf_alarms(blocks, model)
    attach = resources_of(blocks, "aws_iam_role_policy_attachment")["logs"]
    for fn in loc["function_names"]:
        model["managed"].add((fn, one(attach["policy_arn"]).split("policy/")[-1]))
    docs = resources_of(blocks, "aws_iam_policy_document", "data")
    for fn, ref in loc["function_policies"].items():
        doc = docs[re.search(r"aws_iam_policy_document\.(\w+)\.json", one(ref))[1]]
        for st in doc.get("statement", []):
            actions = resolve(one(st["actions"]), loc)
            resources = resolve(one(st["resources"]), loc)
            conditions = {}
            for c in st.get("condition", []):
                conditions.setdefault(one(c["test"]), {})[one(c["variable"])] = resolve(one(c["values"]), loc)
            condition = condition_key(conditions, lambda v: tf_text(v, loc))
            for a in actions:
                for r in resources:
                    model["iam"].add((fn, a, tf_resource_key(r), condition))
    max_receive = one(blocks["variable"]["max_receive_count"]["default"])
    for q in loc["queues"]:
        model["queues"][f"queue:{q}"] = (f"dlq:{q}", max_receive)
        model["queues"][f"dlq:{q}"] = None
    for name, t in resources_of(blocks, "aws_dynamodb_table").items():
        gsis = sorted(
            (one(g["name"]), tuple(one(x) for x in (g.get("hash_key"), g.get("range_key")) if x))
            for g in t.get("global_secondary_index", [])
        )
        ttl = one(t["ttl"][0]["attribute_name"]) if t.get("ttl") else None
        model["tables"][f"table:{name}"] = (one(t["hash_key"]), one(t.get("range_key")), tuple(gsis), ttl)
    versioned = set(resources_of(blocks, "aws_s3_bucket_versioning"))
    logged = set(resources_of(blocks, "aws_s3_bucket_logging"))
    for name in resources_of(blocks, "aws_s3_bucket"):
        model["buckets"][f"bucket:{name}"] = (name in versioned, name in logged)
    return model


# --- the comparison ------------------------------------------------------------------------


def differences(cdk, tf):
    out = []
    # Values are compared where Terraform's are known statically (see tf_env_value).
    for k, v in sorted(tf["env_values"].items()):
        if cdk["env_values"].get(k) != v:
            out.append(f"env value {k}: CDK {cdk['env_values'].get(k)!r} vs Terraform {v!r}")
    for part in ("functions", "env", "concurrency", "iam", "managed", "queues", "mappings", "alarms", "tables", "buckets", "settings"):
        a, b = cdk[part], tf[part]
        if isinstance(a, dict):
            if set(a) != set(b):
                out.append(f"{part}: only in CDK {sorted(set(a) - set(b))}, only in Terraform {sorted(set(b) - set(a))}")
            for k in set(a) & set(b):
                if part != "functions" and a[k] != b[k]:
                    out.append(f"{part} {k}: CDK {a[k]} vs Terraform {b[k]}")
        elif a != b:
            out.append(f"{part}: only in CDK {sorted(a - b)}; only in Terraform {sorted(b - a)}")
    return out


def main():
    template = json.loads(Path(sys.argv[1]).read_text())
    cdk, tf = cdk_model(template), tf_model(sys.argv[2])
    # Nothing vacuous: both sides declare the whole stack.
    assert set(cdk["functions"]) == FUNCTIONS, cdk["functions"]
    assert len(cdk["iam"]) > 100 and len(cdk["env"]) > 30 and len(cdk["tables"]) == 4 and len(cdk["queues"]) == 8, cdk
    assert len(cdk["mappings"]) == 4 and len(cdk["alarms"]) == 4 + len(FUNCTIONS), (cdk["mappings"], cdk["alarms"])
    assert set(cdk["concurrency"]) == FUNCTIONS and all(cdk["concurrency"].values()), cdk["concurrency"]
    assert {("api", "DEFAULT_KEY_RATE_LIMIT"), ("api", "DEFAULT_PROJECT_QUOTA"), ("processor", "RETENTION_DAYS")} <= set(tf["env_values"]), tf["env_values"]
    assert set(cdk["settings"]) == {"athena", "web_headers", "setup_secret"}, cdk["settings"]
    assert any(c for (_, _, _, c) in cdk["iam"]), "listings are scoped by conditions"
    diff = differences(cdk, tf)
    if diff:
        print("Terraform and CDK differ:\n  " + "\n  ".join(diff))
        sys.exit(1)
    # And a difference would be seen: drop one grant from the Terraform side, or widen one
    # listing to the whole bucket.
    scoped = next(g for g in sorted(tf["iam"]) if g[3])
    tf["iam"].discard(scoped)
    assert differences(cdk, tf), "a missing grant must show"
    tf["iam"].add(scoped[:3] + ("",))
    assert differences(cdk, tf), "a lost condition must show"
    tf["iam"].discard(scoped[:3] + ("",))
    tf["iam"].add(scoped)
    assert not differences(cdk, tf)
    # …or change a mapping's maximum concurrency, a reservation or a default limit.
    for part, key, change in (
        ("mappings", "queue:large_envelopes", lambda m: m[:4] + (m[4] + 1,)),
        ("concurrency", "ingest", lambda c: None),
        ("env_values", ("api", "DEFAULT_KEY_RATE_LIMIT"), lambda v: v + "0"),
    ):
        before = tf[part][key]
        tf[part][key] = change(before)
        assert differences(cdk, tf), f"a changed {part} {key} must show"
        tf[part][key] = before
    print(
        f"ok: Terraform = CDK: {len(cdk['functions'])} functions, {len(cdk['env'])} environment variables, "
        f"{len(tf['env_values'])} of their values, {len(cdk['concurrency'])} reservations, "
        f"{len(cdk['queues'])} queues, {len(cdk['mappings'])} queue mappings, {len(cdk['alarms'])} alarms, "
        f"{len(cdk['tables'])} tables, {len(cdk['buckets'])} buckets, "
        f"{len(cdk['iam'])} (function, action, resource, condition) grants, "
        f"{len(cdk['settings'])} settings ({', '.join(sorted(cdk['settings']))})"
    )


if __name__ == "__main__":
    main()
