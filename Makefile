# Slotboard: `make run` serves the app on the embedded SQLite database with demo data;
# `make test` sets up the same environment plus the test tools and runs the suite.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501

.PHONY: run test lint bench seed migrate clean

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

migrate: $(VENV)/.runtime
	$(PY) cli.py migrate

seed: migrate
	$(PY) cli.py seed --demo --if-empty

run: seed
	$(PY) cli.py demo-accounts
	$(PY) -m streamlit run app.py --server.port $(PORT) --server.headless true

test: $(VENV)/.dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) -m mypy
	$(PY) -m pytest

lint: $(VENV)/.dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) -m mypy

bench: $(VENV)/.dev
	$(PY) bench/seed_bench.py
	$(PY) bench/cold_start_bench.py
	$(PY) bench/slot_search_bench.py
	$(PY) bench/booking_bench.py
	$(PY) bench/import_bench.py
	$(PY) bench/overview_bench.py
	$(PY) bench/forecast_bench.py
	$(PY) bench/peak_times_page_bench.py
	$(PY) bench/retention_bench.py
	$(PY) bench/notifications_bench.py
	$(PY) bench/recommendations_bench.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
