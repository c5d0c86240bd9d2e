# fedsafe: the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install r system-deps demo demo-local test lint format benchmark clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; fedsafe needs Python 3.11+ (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	$(BIN)/python -m pip install --quiet --no-deps roc-validator==0.13.0  # pins rich<14: see pyproject
	@touch $(STAMP)

# R for the r:v1 runtime and its tests (Debian's r-base-core); skipped when R is already there.
r:
	@command -v Rscript >/dev/null 2>&1 || { \
		command -v apt-get >/dev/null 2>&1 || { echo "error: the r:v1 tests need R (Rscript): install R, e.g. Debian's r-base-core"; exit 1; }; \
		apt-get update -q && apt-get install -y -q --no-install-recommends r-base-core; }

# A whole federation on this machine: coordinator, two backends (DuckDB native; SQLite OMOP)
# with their agents and airlocks, one request, releases, the combine and a public dashboard.
demo: install
	$(BIN)/python examples/federation/run_federation.py

# The single-study demo: one study run locally through its pipeline on synthetic data.
demo-local: install
	$(BIN)/python examples/demo/run_demo.py

lint: install
	$(BIN)/ruff check --no-cache .
	$(BIN)/ruff format --no-cache --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Real servers, a real browser and Spark for the tests: PostgreSQL (initdb/pg_ctl), Debian's
# chromium (driven by Playwright; never `playwright install`: there is no download) and Java 17
# for Spark. Installed from Debian's packages when missing (as root, as on CI).
system-deps:
	@command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
		{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql; }
	@command -v java >/dev/null 2>&1 || \
		{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q openjdk-17-jre-headless; }
	@test -x /usr/bin/chromium || \
		{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

test: lint r system-deps
	$(BIN)/python -m pytest -q -p no:cacheprovider

benchmark: install
	-$(BIN)/python benchmarks/bench_cohort.py
	$(BIN)/python benchmarks/bench_dummy_data.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache .cache
