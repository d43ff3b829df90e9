# Line of Sight. `make run` starts the app on the demo council; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
DB := data/scorecard.db

.PHONY: run test install install-dev demo lint format bench screenshots clean

run: install
	$(PY) -m metrics init $(if $(wildcard $(DB)),,--demo)
	$(PY) -m streamlit run app.py --server.port $(PORT)

test: install-dev
	$(PY) -m pytest -n auto

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

# Throw away the local database and load the demo council again.
demo: install
	rm -f $(DB) $(DB)-wal $(DB)-shm
	$(PY) -m metrics init --demo

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install-dev
	$(PY) benchmarks/run.py
	$(PY) benchmarks/dashboard_apptest.py

# Refresh the README's screenshots from the browser test (needs /usr/bin/chromium).
screenshots: install-dev
	SCORECARD_SCREENSHOTS=docs/screenshots $(PY) -m pytest tests/test_browser.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
