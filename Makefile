# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest install serve bench bench-storm bench-timers bench-report clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/incidentbot demo

test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/ack_latency.py

bench-storm: $(STAMP)
	$(BIN)/python bench/alert_storm.py

bench-timers: $(STAMP)
	$(BIN)/python bench/timers.py

bench-report: $(STAMP)
	$(BIN)/python bench/report.py

serve: $(STAMP)
	$(BIN)/incidentbot db upgrade
	$(BIN)/incidentbot serve

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache incidentbot.db
