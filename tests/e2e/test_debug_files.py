"""Debug files uploaded with the real sentry-cli (`debug-files upload`) against the local stack:
a C program and a Rust program compiled here with debug info; the CLI's chunked upload and
assembly; the files listed by the API with the debug ids the CLI itself reads from them;
uploading again adds nothing; deletion."""

import json
import re
import shutil
import subprocess

from helpers import SDKS, new_tag, run

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
