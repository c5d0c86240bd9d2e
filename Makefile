# fedsafe: the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install system-deps demo test lint format benchmark clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; fedsafe needs Python 3.11+ (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

demo: install
	$(BIN)/python examples/demo/run_demo.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The coordinator's tests need a real PostgreSQL server and Debian's chromium (browser tests).
system-deps:
	@{ command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } \
		|| { apt-get update -q && apt-get install -y -q postgresql; }
	@test -x /usr/bin/chromium || { apt-get update -q && apt-get install -y -q chromium; }

test: lint system-deps
	$(BIN)/python -m pytest -q -p no:cacheprovider

benchmark: install
	-$(BIN)/python benchmarks/bench_cohort.py
	$(BIN)/python benchmarks/bench_dummy_data.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache
