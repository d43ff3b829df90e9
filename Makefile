# Line of Sight. `make run` starts the app on the demo council; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
DB := data/scorecard.db

# Let Python keep its bytecode cache (its default), which these build machines turn off: without
# it every test worker, server and command compiled the app's modules from source again, and
# pytest re-rewrote every test module (8 s of each worker's start; 0.1 s of a 1.3 s `status`).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run test faults install install-dev demo lint format bench screenshots walk clean

run: install
	$(PY) -m metrics init $(if $(wildcard $(DB)),,--demo)
	$(PY) -m streamlit run app.py --server.port $(PORT)

test: install-dev
	$(PY) -m pytest -n auto

# The long concurrency, fault and load runs (marked slow), kept out of the everyday suite.
faults: install-dev
	$(PY) -m pytest -n auto -m slow

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
	$(VENV)/bin/mypy

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install-dev
	$(PY) benchmarks/rating.py
	$(PY) benchmarks/import_memory.py
	$(PY) benchmarks/entry_save.py
	$(PY) benchmarks/committee_pack.py
	$(PY) benchmarks/reading_pages.py $(if $(BENCH_POSTGRES),--postgres $(BENCH_POSTGRES))

# Refresh the README's screenshots from the browser test (needs /usr/bin/chromium).
screenshots: install-dev
	SCORECARD_SCREENSHOTS=docs/screenshots $(PY) -m pytest tests/test_browser.py

# Issue 11's walk: every reading page at desk and phone size, in Chromium (after-*.png).
walk: install-dev
	$(PY) tests/walk_screens.py docs/screenshots/issue-11 --prefix after

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
