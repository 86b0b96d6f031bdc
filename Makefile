# riskgraph — the two commands of the README are `make demo` and `make test`.
SHELL := /bin/bash
VENV := .venv
RG := $(VENV)/bin/riskgraph
DEMO := var/demo
PORT ?= 8501
SCALE ?= 1

.PHONY: setup demo test lint typecheck pytest db-start db-stop clean-demo

setup:
	@bash scripts/setup_system.sh
	@bash scripts/setup_python.sh

## Main job: local Neo4j, the demo city, a full refresh, demo accounts (created once; their
## passwords are printed once and kept in $$RISKGRAPH_HOME/secrets/demo_users.txt, mode 0600),
## then the app on http://127.0.0.1:$(PORT) (sign in with one of them). The demo city has invalid
## rows on purpose: the refresh quarantines them and exits 1 ("done, but"), which is tolerated.
demo: setup
	$(RG) db start
	@[ -d $(DEMO)/inbox ] || $(RG) demo generate --out $(DEMO) --scale $(SCALE)
	$(RG) refresh --inbox $(DEMO)/inbox || [ $$? -eq 1 ]
	$(VENV)/bin/python -m security.demo_users
	$(RG) serve --port $(PORT)

## Whole test suite: lint, type check, unit + real-Neo4j + browser tests
test: setup lint typecheck pytest

lint:
	$(VENV)/bin/ruff check .

typecheck:
	$(VENV)/bin/mypy riskgraph graph ingest data_contracts analytics dashboards demo workflow security bench

pytest:
	$(VENV)/bin/pytest -q

db-start:
	$(RG) db start

db-stop:
	$(RG) db stop

clean-demo:
	rm -rf $(DEMO)
