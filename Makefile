# The two commands a newcomer needs: `make demo` and `make test`. Both set themselves up.
SHELL := /bin/bash
.DEFAULT_GOAL := help
NODE_MODULES := node_modules/.package-lock.json

.PHONY: help setup generate check-generated typecheck test check demo build pack bench spec-drift

help:
	@echo "make demo             set up, start a local redis-server, run examples/ against it (or GOCACHE_URL)"
	@echo "make test             set up, then check-generated, typecheck and every test"
	@echo "make generate         regenerate generated/ from spec/"
	@echo "make check            everything CI runs (test, then docs)"
	@echo "make docs             the TypeDoc API site in docs/api/"
	@echo "make bench            benchmarks against ioredis and node-redis (ratios)"
	@echo "make spec-drift       compare spec/ with the server's COMMAND DOCS"

$(NODE_MODULES): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# Installs what the tests need: node modules, and Debian's redis-server (with redis-cli, from
# redis-tools, which the cluster tests use to create a Redis Cluster) when either is missing.
setup: $(NODE_MODULES)
	@if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then \
	  echo "redis-server or redis-cli is missing: installing Debian's redis-server and redis-tools"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq redis-server redis-tools; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq redis-server redis-tools; fi; \
	fi
	@command -v redis-server >/dev/null || { echo "redis-server could not be installed" >&2; exit 1; }
	@command -v redis-cli >/dev/null || { echo "redis-cli could not be installed" >&2; exit 1; }

generate: $(NODE_MODULES)
	npx tsx codegen/main.ts

check-generated: $(NODE_MODULES)
	npx tsx codegen/main.ts --check

typecheck: $(NODE_MODULES)
	npx tsc -p tsconfig.json --noEmit

test: setup check-generated typecheck spec-drift
	npx vitest run

check: test docs

# dist/esm (import; require on Node >= 20.19) and dist/cjs (require on older Node 20): package.json's build script.
build: $(NODE_MODULES)
	npm run --silent build

pack: build
	npm pack --ignore-scripts

demo: setup
	npx tsx examples/run-demo.ts

# Compares every spec with the server's own COMMAND DOCS / COMMAND INFO (starts its own redis-server).
spec-drift: setup
	npx tsx tools/spec-drift.ts

# Our client against ioredis and node-redis on one local redis-server; prints ratios (not run by tests).
bench: setup
	npx tsx bench/run.ts

# API reference: `make docs` builds a static TypeDoc site of the public API (src/index.ts: client,
# options, errors, pipelines, subscriptions, cluster, monitor, and the generated commands with their
# JSDoc) in docs/api/ (git-ignored; open docs/api/index.html), then checks that the main pages are
# there. Part of `make check`; any TypeDoc warning fails it (typedoc.json). TypeDoc needs TypeScript
# 5's JS API, which the root's TypeScript 7 lacks: TypeDoc and TypeScript 5.9 are pinned in tools/docs/
# (its own package-lock.json) and installed there with `npm ci` on first use.
DOCS_MODULES := tools/docs/node_modules/.package-lock.json
DOCS_PAGES := variables/GoCacheClient variables/GoCacheCluster interfaces/ClientOptions interfaces/ClusterOptions \
  classes/GoCacheError classes/GoCacheCommandError classes/Subscription types/Pipeline types/Multi

$(DOCS_MODULES): tools/docs/package.json tools/docs/package-lock.json
	npm ci --prefix tools/docs --no-audit --no-fund
	@touch $@

.PHONY: docs
docs: $(NODE_MODULES) $(DOCS_MODULES)
	node tools/docs/node_modules/typedoc/bin/typedoc --options typedoc.json
	@for page in $(DOCS_PAGES); do \
	  test -f docs/api/$$page.html || { echo "docs: docs/api/$$page.html is missing" >&2; exit 1; }; \
	done

# Mutation score (StrykerJS, stryker.config.mjs) of the RESP encoder and parser, the decoders, the
# connection and the generator's model, one Stryker run per target; not part of `make test`. Reports:
# coverage/mutation/<target>.html. `make mutate MUTATE="encoder decoders"` runs some targets only.
MUTATE ?= encoder decoders model connection parser
.PHONY: mutate
mutate: setup
	@rm -f coverage/mutation/*.json
	@for target in $(MUTATE); do echo "== make mutate: $$target"; MUTATE=$$target npx stryker run || exit 1; done
	@node stryker.summary.mjs
