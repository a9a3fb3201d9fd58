"""JavaScript source maps end to end with the real tools: a module minified by esbuild with a
source map, debug ids injected and the bundle uploaded by the real `sentry-cli sourcemaps
inject` / `upload` for a release made with `sentry-cli releases new / finalize / info / list`,
an error thrown from the minified code under the real @sentry/node; the
stored event shows the original file, line and function (from the source map, not from any
expected value written here), and the frames as sent stay available as the raw stack trace."""

import json
import subprocess

from helpers import SDKS, new_tag, run
from test_debug_files import CLI, cli_env

ESBUILD = SDKS / "browser" / "node_modules" / ".bin" / "esbuild"

APP_SOURCE = """// The original source: what the stack trace should show.
export function checkout(cart) {
  return total(cart.items);
}

function total(items) {
  return items.reduce((sum, item) => sum + price(item), 0);
}

function price(item) {
  if (!item.sku) throw new Error("item without a sku TAG");
  return item.cents;
}
"""


def build(tmp_path, tag):
    src = tmp_path / "src"
    src.mkdir()
    (src / "app.js").write_text(APP_SOURCE.replace("TAG", tag))
    dist = tmp_path / "dist"
    run([str(ESBUILD), str(src / "app.js"), "--bundle", "--minify", "--sourcemap", "--format=esm",
         "--platform=node", f"--outfile={dist / 'app.min.mjs'}"])
    return src / "app.js", dist


def test_minified_node_frames_map_to_the_original_source(stack, api, tmp_path):
    tag = new_tag()
    source, dist = build(tmp_path, tag)
    minified = (dist / "app.min.mjs").read_text()
    assert "function price" not in minified, "esbuild renamed the functions"

    injected = run([str(CLI), "sourcemaps", "inject", str(dist)], env=cli_env(stack), timeout=60)
    debug_id = json.loads((dist / "app.min.mjs.map").read_text())["debugId"]
    assert debug_id in (dist / "app.min.mjs").read_text(), injected
    # The release the way a deploy script makes one, then the upload tied to it.
    release = f"node-minified@{tag}"
    env = cli_env(stack)
    assert release in run([str(CLI), "releases", "new", release], env=env, timeout=60)
    uploaded = run([str(CLI), "sourcemaps", "upload", "--release", release, str(dist)], env=env, timeout=180)
    assert "File processing complete" in uploaded, uploaded
    run([str(CLI), "releases", "finalize", release], env=env, timeout=60)
    info = run([str(CLI), "releases", "info", release], env=env, timeout=60)
    assert release in info, info
    listed = run([str(CLI), "releases", "list"], env=env, timeout=60)
    assert release in listed, listed
    detail = api.get(f"organizations/{stack['ORG']}/releases/{release}/").json()
    assert detail["dateReleased"] and [p["slug"] for p in detail["projects"]] == [stack["PROJECT"]], detail

    bundles = api.get(f"projects/{stack['ORG']}/{stack['PROJECT']}/files/artifact-bundles/", query=debug_id).json()
    assert len(bundles) == 1 and debug_id in bundles[0]["debugIds"], bundles
    assert bundles[0]["fileCount"] == 2
    assert bundles[0]["associations"] == [{"release": release, "dist": None}], bundles

    out = subprocess.run(["node", str(SDKS / "node" / "minified.mjs"), stack["DSN"], tag, str(dist / "app.min.mjs")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    event_id = out.stdout.strip().replace("-", "")
    path = f"projects/{stack['ORG']}/{stack['PROJECT']}/events/{event_id}/"

    def stored():
        resp = api.get(path)
        return resp.json() if resp.status_code == 200 else None

    # Found by id: symbolicated, every run's event groups with the first run's issue (same
    # original stack), whose title has that run's tag.
    event = api.wait_for(stored, f"event {event_id}", timeout=90)
    assert f"item without a sku {tag}" in json.dumps(event["entries"]), event["title"]
    [exception] = [e for e in event["entries"] if e["type"] == "exception"]
    value = exception["data"]["values"][0]
    frames = value["stacktrace"]["frames"]
    ours = [f for f in frames if f.get("symbolicatorStatus") == "symbolicated"]
    assert ours, frames

    # Where `throw` is in the original source, found here by reading it.
    lines = source.read_text().splitlines()
    throw_line = next(i for i, line in enumerate(lines, 1) if "throw new Error" in line)
    top = ours[-1]
    assert (top["function"], top["filename"], top["lineNo"]) == ("price", "src/app.js", throw_line), top
    # Source context comes from the map's embedded sources: the original line, numbered.
    assert [n for n, text in top["context"] if "throw new Error" in text] == [throw_line], top["context"]
    functions = [f["function"] for f in ours]
    assert {"checkout", "total"} <= set(functions), functions
    # The frames as the SDK sent them stay available.
    raw = value["rawStacktrace"]["frames"]
    assert any((f.get("absPath") or f.get("filename") or "").endswith("app.min.mjs") for f in raw), raw
    assert not any(f.get("function") == "price" for f in raw), "raw frames are the minified ones"
