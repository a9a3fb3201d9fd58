"""Debug files uploaded with the real sentry-cli (`debug-files upload`) against the local stack:
a C program and a Rust program compiled here with debug info; the CLI's chunked upload and
assembly; the files listed by the API with the debug ids the CLI itself reads from them;
uploading again adds nothing; deletion. Then native symbolication with them: an event with raw
addresses, and a real crash's minidump from the official `sentry-minidump` integration."""

import json
import re
import shutil
import subprocess

from helpers import ROOT, SDKS, new_tag, run

CLI = SDKS / "node" / "node_modules" / ".bin" / "sentry-cli"

C_SOURCE = """
#include <stdio.h>
static int divide(int a, int b) { return a / b; }
int main(int argc, char **argv) { printf("%d\\n", divide(argc, argc - 1)); return 0; }
/* TAG */
"""

RUST_SOURCE = """
fn divide(a: i32, b: i32) -> i32 { a / b }
fn main() { let n = std::env::args().count() as i32; println!("{}", divide(n, n - 1)); }
// TAG
"""


def cli_env(stack):
    """sentry-cli wants a URL root: the emulator's host-style API address (curl resolves
    `*.localhost` itself)."""
    api_id = re.search(r"/execute-api/([^/]+)/", stack["API"])[1]
    return {
        "SENTRY_URL": f"http://{api_id}.execute-api.localhost:4566",
        "SENTRY_AUTH_TOKEN": stack["TOKEN"],
        "SENTRY_ORG": stack["ORG"],
        "SENTRY_PROJECT": stack["PROJECT"],
    }


def debug_id(path):
    checked = json.loads(run([str(CLI), "debug-files", "check", "--json", str(path)]))
    assert checked["is_usable"], checked
    return checked["variants"][0]["debug_id"]


def build(tmp_path, tag):
    assert shutil.which("gcc") and shutil.which("rustc"), "the test compiles with gcc and rustc"
    c = tmp_path / "divide.c"
    c.write_text(C_SOURCE.replace("TAG", tag))
    subprocess.run(["gcc", "-g", "-O0", "-o", str(tmp_path / "divide"), str(c)], check=True)
    rs = tmp_path / "main.rs"
    rs.write_text(RUST_SOURCE.replace("TAG", tag))
    subprocess.run(["rustc", "-g", "-C", "opt-level=0", "-o", str(tmp_path / "rdivide"), str(rs)], check=True)
    return [tmp_path / "divide", tmp_path / "rdivide"]


def test_sentry_cli_uploads_debug_files(stack, api, tmp_path):
    tag = new_tag()
    binaries = build(tmp_path, tag)
    ids = {path.name: debug_id(path) for path in binaries}
    out = run([str(CLI), "debug-files", "upload", *map(str, binaries)], env=cli_env(stack), timeout=180)
    for path in binaries:
        assert f"OK {ids[path.name]}" in out, out

    path = f"projects/{stack['ORG']}/{stack['PROJECT']}/files/dsyms/"
    for name, dif_id in ids.items():
        [listed] = api.get(path, query=dif_id).json()
        assert listed["debugId"] == dif_id
        assert (listed["objectName"], listed["cpuName"], listed["symbolType"]) == (name, "x86_64", "elf"), listed
        assert {"symtab", "debug", "unwind"} <= set(listed["data"]["features"]), listed
        assert listed["size"] == (tmp_path / name).stat().st_size

    # The same files again: the server already has them, nothing is added.
    again = run([str(CLI), "debug-files", "upload", *map(str, binaries)], env=cli_env(stack), timeout=180)
    assert "Nothing to upload, all files are on the server" in again, again
    for dif_id in ids.values():
        assert len(api.get(path, query=dif_id).json()) == 1

    for dif_id in ids.values():
        [listed] = api.get(path, query=dif_id).json()
        resp = api.session.delete(f"{api.base}/{path}", params={"id": listed["id"]}, json={}, timeout=30)
        assert resp.status_code == 204, resp.text
        assert api.get(path, query=dif_id).json() == []


NATIVE_APP = """
import sys, sentry_sdk
dsn, tag, debug_id, image_addr, image_size, addr, code_file = sys.argv[1:8]
sentry_sdk.init(dsn=dsn, release="native@" + tag)
print(sentry_sdk.capture_event({
    "platform": "native",
    "level": "fatal",
    "exception": {"values": [{"type": "SIGFPE", "value": "integer divide by zero " + tag,
                              "mechanism": {"type": "signalhandler", "handled": False},
                              "stacktrace": {"frames": [{"instruction_addr": addr}]}}]},
    "debug_meta": {"images": [{"type": "elf", "debug_id": debug_id, "image_addr": image_addr,
                               "image_size": int(image_size), "code_file": code_file}]},
}))
sentry_sdk.flush(timeout=10)
"""


def test_native_frames_are_symbolicated_with_the_uploaded_file(stack, api, tmp_path):
    import sys

    from helpers import wait_for_issues

    tag = new_tag()
    [c_binary, _] = build(tmp_path, tag)
    dif_id = debug_id(c_binary)
    run([str(CLI), "debug-files", "upload", str(c_binary)], env=cli_env(stack), timeout=180)
    # The address of `divide` from the binary's own symbol table (PIE: relative to its load
    # address), a few bytes in, as if the process had the image at image_addr.
    nm = run(["nm", str(c_binary)])
    divide = int(next(line.split()[0] for line in nm.splitlines() if line.endswith(" divide")), 16)
    image_addr = 0x5555_5555_0000
    addr = hex(image_addr + divide + 4)
    out = subprocess.run(
        [sys.executable, "-c", NATIVE_APP, stack["DSN"], tag, dif_id, hex(image_addr), str(1 << 20), addr, str(c_binary)],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    [issue] = wait_for_issues(api, stack, f"integer divide by zero {tag}", 1, timeout=90)
    event = api.get(f"issues/{issue['id']}/events/latest/").json()
    [exception] = [e for e in event["entries"] if e["type"] == "exception"]
    value = exception["data"]["values"][0]
    frame = value["stacktrace"]["frames"][-1]
    assert (frame["function"], frame["filename"], frame["lineNo"]) == ("divide", "divide.c", 3), frame
    assert frame["instructionAddr"] == addr
    # The frames as sent are kept for the raw view.
    assert value["rawStacktrace"]["frames"][-1]["instructionAddr"] == addr


def test_a_real_crash_minidump_is_walked_and_symbolicated(stack, api, tmp_path):
    """A Rust program (built by tests/sdks/install.sh) aborts for real; the official
    `sentry-minidump` integration's crash reporter writes a minidump of it and sends it. With the
    program's debug file uploaded by sentry-cli, the stored event has the crashing thread's stack,
    walked from the dump, with `explode` and `run` and their lines in crash.rs."""
    from helpers import TARGET, wait_for_issues

    crash = TARGET / "debug" / "crash"
    assert crash.exists(), "tests/sdks/install.sh builds the crash program"
    out = run([str(CLI), "debug-files", "upload", str(crash)], env=cli_env(stack), timeout=180)
    assert "OK" in out or "Nothing to upload" in out, out
    source = (ROOT / "tests" / "sdks" / "rust" / "src" / "bin" / "crash.rs").read_text().splitlines()
    abort_line = next(i for i, line in enumerate(source, 1) if "std::process::abort()" in line)
    explode_call = next(i for i, line in enumerate(source, 1) if line.strip() == "explode(tag);")

    tag = new_tag()
    result = subprocess.run([str(crash), stack["DSN"], tag], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0, "it crashed"

    def crashed():
        for issue in api.get(f"projects/{stack['ORG']}/{stack['PROJECT']}/issues/", query=f"release:native-crash@{tag}").json():
            return issue
        return None

    issue = api.wait_for(crashed, "the crash's issue", timeout=120)
    event = api.get(f"issues/{issue['id']}/events/latest/").json()
    [exception] = [e for e in event["entries"] if e["type"] == "exception"]
    value = exception["data"]["values"][0]
    assert value["type"] == "SIGABRT", value
    assert value["mechanism"]["type"] == "minidump"
    frames = value["stacktrace"]["frames"]
    ours = {f["function"]: f for f in frames if f.get("symbolicatorStatus") == "symbolicated" and f.get("filename") == "crash.rs"}
    assert {"crash::explode", "crash::run"} <= set(ours), [(f.get("function"), f.get("filename")) for f in frames]
    assert ours["crash::explode"]["lineNo"] == abort_line, ours["crash::explode"]
    assert ours["crash::run"]["lineNo"] == explode_call, ours["crash::run"]
    # The dump stays with the event as an attachment.
    attachments = api.get(f"projects/{stack['ORG']}/{stack['PROJECT']}/events/{event['eventID']}/attachments/").json()
    assert any(a["type"] == "event.minidump" for a in attachments), attachments
