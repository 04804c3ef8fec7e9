# The README's commands: `make run` serves the app with demo data, `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-requirements
HOST   ?= 127.0.0.1
PORT   ?= 5000
FLASK  := $(BIN)/flask --app app

.PHONY: run serve test lint format check venv chromium demo bench soak clean translations catalogs

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

venv: $(STAMP)

chromium:
	@sh scripts/install-chromium.sh

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
	@echo "  Demo survey:    http://$(HOST):$(PORT)/s/demo"
	@cat instance/demo-login.txt 2>/dev/null | sed 's/^/  Demo login:     /' || true
	@echo ""
	FLASK_BASE_URL=$${FLASK_BASE_URL:-http://$(HOST):$(PORT)} $(FLASK) run --host $(HOST) --port $(PORT)

serve: venv catalogs
	$(FLASK) init-db
	$(BIN)/gunicorn --config gunicorn.conf.py --bind $(HOST):$(PORT) app:app

test: venv chromium catalogs
	$(BIN)/pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check: lint test

bench: venv
	$(BIN)/python benchmarks/results.py
	$(BIN)/python benchmarks/report.py
	$(BIN)/python benchmarks/load.py

soak: venv
	$(BIN)/python scripts/fault_test.py --requests 10000 --kills 20

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
