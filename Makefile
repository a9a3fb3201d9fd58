# The two commands: `make up` (the whole stack locally) and `make test` (every test).
SHELL := /bin/bash
.PHONY: up down test test-lint test-rust test-infra test-web test-fuzz test-e2e lint build fuzz bench bench-api bench-web load compare cost demo screens package

up:            ## emulator + build + cdk deploy + web + demo data; prints DSN, API, WEB, …
	@bash localstack/up.sh

down:          ## stop the emulator and its Lambda processes
	@bash localstack/down.sh

test:          ## every test; starts the stack first (idempotent)
	@bash scripts/test.sh

test-lint test-rust test-infra test-web test-fuzz test-e2e:
	@bash scripts/test.sh $(subst test-,,$@)

lint:          ## rustfmt + clippy, warnings are errors
	@bash scripts/lint.sh

build:         ## the Lambda binaries for the local stack
	@bash localstack/build.sh

package:       ## release artifacts for AWS: arm64 Lambda zips (cargo lambda) and the web app (docs/deploy.md)
	@bash scripts/package.sh

fuzz:          ## fuzz every target for FUZZ_SECONDS (default 15) each
	@bash scripts/fuzz.sh

bench:         ## benchmarks: ingest, processor, native and JavaScript symbolication (one core, in process); init, RSS and zip of each function; SDK→issue and issue-list latency and deleting a 2,000-event issue on the stack
	cargo bench -q -p errata-ingest --no-default-features --bench ingest | grep -v '"Outcomes"'
	cargo bench -q -p errata-processor --bench pipeline 2>/dev/null | grep -v '"Outcomes"'
	cargo build -q -p errata-api && cargo bench -q -p errata-symbolicator --bench symcache
	cargo bench -q -p errata-symbolicator --bench sourcemap
	cargo build -q --release --bins -p errata-ingest -p errata-processor -p errata-symbolicator -p errata-api -p errata-notifier
	@bash scripts/package.sh >/dev/null
	python3 scripts/bench_functions.py 10
	@bash localstack/up.sh >/dev/null
	tests/.venv/bin/python scripts/bench_e2e.py 40
	tests/.venv/bin/python -u scripts/bench_api.py 1000 20
	tests/.venv/bin/python -u scripts/bench_delete.py 2000

bench-api:     ## API latency with 10,000 issues in a project, and event-store query latency (~10 min)
	@bash localstack/up.sh >/dev/null
	tests/.venv/bin/python -u scripts/bench_api.py 10000 100

bench-web:     ## web app: cold load of the issue stream and route changes in Chromium (p50/p95)
	@bash localstack/up.sh >/dev/null
	@bash web/build.sh >/dev/null
	@. .errata/local.env && node web/test/browser/bench.mjs "$$WEB" "$$LOGIN" "$$PASSWORD" 20

LOAD_EVENTS ?= 100000
LOAD_CLIENTS ?= 32
LOAD_SETTLE ?= 5400
load:          ## LOAD_EVENTS (100,000) envelopes from LOAD_CLIENTS (32) concurrent clients through the local ingest, then reconciliation
	@bash localstack/up.sh >/dev/null
	cargo build -q --release -p errata-load
	@. localstack/env.sh && . .errata/local.env && "$$CARGO_TARGET_DIR/release/errata-load" "$$DSN" --events $(LOAD_EVENTS) --clients $(LOAD_CLIENTS) --out .errata/load.json
	tests/.venv/bin/python scripts/load_reconcile.py .errata/load.json $(LOAD_SETTLE)

COMPARE_EVENTS ?= 5000
COMPARE_CLIENTS ?= 16
compare:       ## Errata and Bugsink (PyPI, its single-server setup) side by side: the same load, throughput, latency, memory
	@bash localstack/up.sh >/dev/null
	cargo build -q --release -p errata-load
	tests/.venv/bin/python scripts/compare.py $(COMPARE_EVENTS) $(COMPARE_CLIENTS)

COST_EVENTS ?= 2000
cost:          ## AWS list-price cost per million events, per component, and idle per month, from a run measured on the local stack
	@bash localstack/up.sh >/dev/null
	cargo build -q --release -p errata-load
	tests/.venv/bin/python scripts/cost.py $(COST_EVENTS) 16

demo:          ## send a realistic set of errors to the local DSN with the real Python SDK
	@bash localstack/up.sh >/dev/null
	@bash tests/install.sh >/dev/null
	@. .errata/local.env && tests/.venv/bin/python scripts/demo_events.py "$$DSN"

screens:       ## the README's screenshots (docs/screens/) of the demo data, in Chromium
	@. .errata/local.env && node web/test/browser/screens.mjs "$$WEB" "$$LOGIN" "$$PASSWORD" docs/screens
