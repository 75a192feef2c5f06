# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck deps pytest install lock serve bench bench-ack bench-declare bench-inbox bench-storm bench-burst bench-timers bench-report bench-soak clean

# Installs are pinned: constraints.txt holds the exact version of every package '.[dev]' pulls
# in (pip's own global constraint files, e.g. /etc/xdg/pip/constraints.txt, still apply on top).
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# After changing dependencies in pyproject.toml: install them (pip install -e '.[dev]'), check,
# then `make lock` rewrites constraints.txt from this venv (tools/lock.py) — commit both files.
lock:
	$(BIN)/pip check
	$(BIN)/python tools/lock.py > constraints.txt.new
	mv constraints.txt.new constraints.txt

demo: $(STAMP)
	$(BIN)/incidentbot demo

test: $(STAMP) lint typecheck deps pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# Installed packages agree with each other's requirements. (A vulnerability audit, pip-audit,
# needs PyPI's JSON API or OSV, which this offline CI cannot reach.)
deps: $(STAMP)
	$(BIN)/pip check

# PostgreSQL cases run on INCIDENTBOT_TEST_POSTGRES, else on database `test` when 127.0.0.1:5432
# answers (the suite wipes it; under xdist test_gw0, test_gw1 …); a bare `pytest` runs them only
# when told which database to use.
TEST_PG_IF_UP ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
# pytest-xdist workers (0: one process). Each worker wipes its own PostgreSQL database, the
# configured one's name with _gw0, _gw1 … appended (created when missing); each test module runs
# on one worker (--dist loadfile), so its module-scoped fixtures are made once.
PYTEST_WORKERS ?= 2

pytest: $(STAMP)
	INCIDENTBOT_TEST_POSTGRES_IF_UP=$(TEST_PG_IF_UP) $(BIN)/python -m pytest -q \
		-n $(PYTEST_WORKERS) --dist loadfile

# The benches' PostgreSQL database (created if missing, emptied first): never `test`.
BENCH_PG_DB ?= bench

bench: bench-ack bench-declare

bench-ack: $(STAMP)
	BENCH_PG_DB=$(BENCH_PG_DB) $(BIN)/python bench/ack_latency.py

bench-declare: $(STAMP)
	BENCH_PG_DB=$(BENCH_PG_DB) $(BIN)/python bench/declare_to_channel.py

bench-inbox: $(STAMP)
	BENCH_PG_DB=$(BENCH_PG_DB) $(BIN)/python bench/inbox_write.py

bench-storm: $(STAMP)
	BENCH_PG_DB=$(BENCH_PG_DB) $(BIN)/python bench/alert_storm.py

# 10 declares at once → 10 channels within 2 s; a 30-declare storm: 18 at once, the rest as
# Slack's minute frees; zero 429s from an emulator enforcing Slack's tiers. (--db postgres)
bench-burst: $(STAMP)
	BENCH_PG_DB=$(BENCH_PG_DB) $(BIN)/python bench/channel_burst.py

bench-timers: $(STAMP)
	$(BIN)/python bench/timers.py

bench-report: $(STAMP)
	$(BIN)/python bench/report.py

bench-soak: $(STAMP)
	$(BIN)/python bench/soak.py

serve: $(STAMP)
	$(BIN)/incidentbot db upgrade
	$(BIN)/incidentbot serve

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache incidentbot.db
