# The README's commands: `make run` serves the app with demo data, `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Stamps: a second `make test` installs nothing unless a lock changed.
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP     := $(VENV)/.installed-dev
HOST   ?= 127.0.0.1
PORT   ?= 5000
FLASK  := $(BIN)/flask --app app
LOCK   := $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --custom-compile-command "make lock"

.PHONY: run serve test lint format check venv dev-venv lock chromium oidc demo bench soak clean translations catalogs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The runtime lock only: what `make run` and `make serve` need.
$(RUNTIME_STAMP): requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

# Runtime + test/bench/dev lock (pinned to the same versions as the runtime lock).
$(DEV_STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $(RUNTIME_STAMP) $@

venv: $(RUNTIME_STAMP)

dev-venv: $(DEV_STAMP)

# Rebuild both locks from pyproject.toml ([project.dependencies]; groups test, bench, dev).
# The existing pins are kept where they still fit; `make lock UPGRADE=--upgrade` takes the newest.
lock: $(DEV_STAMP)
	$(LOCK) $(UPGRADE) pyproject.toml -o requirements.txt
	$(LOCK) $(UPGRADE) --group test --group bench --group dev -c requirements.txt -o requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $(RUNTIME_STAMP) $(DEV_STAMP)

chromium:
	@sh scripts/install-chromium.sh

# The OpenID Connect provider the single sign-on tests start on loopback (npm; skipped without node).
oidc:
	@sh scripts/install-oidc-provider.sh

# Interface texts: English msgids in the code and templates, one catalog per language in translations/.
# `make translations` after changing texts: extract, merge into each catalog, compile (docs/translating.md).
PYBABEL := $(BIN)/pybabel
translations: venv
	$(PYBABEL) extract -F babel.cfg -k _l -k lazy_gettext -k rule \
		--project "Engagement pyramid survey" --copyright-holder "" -o translations/messages.pot .
	$(PYBABEL) update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete
	$(PYBABEL) compile -d translations --statistics

# The compiled catalogs (.mo, not kept in git) that run, serve and test use.
catalogs: venv
	$(PYBABEL) compile -d translations

run: venv catalogs
	@sh scripts/install-chromium.sh || echo "  (Without chromium the app runs, but PDF reports cannot draw their charts.)"
	$(FLASK) init-db
	$(FLASK) demo --if-empty --rounds 2
	@echo ""
	@echo "  Survey app:     http://$(HOST):$(PORT)/admin   (log in with a demo account)"
	@echo "  Demo results:   http://$(HOST):$(PORT)/admin/surveys/demo/results   (closed round, 300 answers)"
	@echo "  Try the form:   http://$(HOST):$(PORT)/s/demo-open   (open survey)"
	@cat instance/demo-login.txt 2>/dev/null | sed 's/^/  Demo login:     /' || true
	@echo ""
	FLASK_BASE_URL=$${FLASK_BASE_URL:-http://$(HOST):$(PORT)} $(FLASK) run --host $(HOST) --port $(PORT)

serve: venv catalogs
	$(FLASK) init-db
	$(BIN)/gunicorn --config gunicorn.conf.py --bind $(HOST):$(PORT) app:app

test: dev-venv chromium catalogs oidc
	$(BIN)/pytest

lint: dev-venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: dev-venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check: lint test

bench: dev-venv
	@sh scripts/install-deb.sh wrk || echo "  (Without wrk the load benchmark falls back to its Python client.)"
	$(BIN)/python benchmarks/results.py
	$(BIN)/python benchmarks/report.py
	$(BIN)/python benchmarks/load.py

soak: dev-venv
	$(BIN)/python scripts/fault_test.py --requests 10000 --kills 20

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
