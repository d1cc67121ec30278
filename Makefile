# `make demo` and `make test` do all the set-up: they create .venv/ (with the `integrity`
# command in it) and install the project with its development tools, from pyproject.toml.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck fixtures fixtures-check golden bench-load bench-kin bench-scan bench-check bench-upload bench-resolve quality quality-seeds mutation oracle clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

# the tests run the Spark engine in local mode too: its extra (PySpark) beside the dev tools
SPARK_STAMP := $(VENV)/.spark
$(SPARK_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,spark]'
	@touch $(SPARK_STAMP)

demo: $(STAMP)
	$(BIN)/integrity scan fixtures/demo/longgang --policy longgang-2023 --out out/demo

test: lint typecheck fixtures-check $(SPARK_STAMP)
	$(BIN)/pytest -n 2

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

fixtures: $(STAMP)
	$(BIN)/python fixtures/generate_demo.py

# the hand-written cases' golden files: written here only, never by a test
golden: $(STAMP)
	$(BIN)/python fixtures/cases/golden.py

fixtures-check: $(STAMP)
	$(BIN)/python fixtures/generate_demo.py --check

bench-kin: $(STAMP)
	$(BIN)/python bench/bench_kin.py

bench-scan: $(STAMP)
	$(BIN)/python bench/bench_scan.py

# the pre-award check: one uvicorn process, then `integrity serve --workers 2` (~20 min in all)
bench-check: $(STAMP)
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null) \
		|| echo "wrk could not be installed: its closed loops are skipped"
	$(BIN)/python bench/bench_check.py
	$(BIN)/python bench/bench_check.py --workers 2

# the resolver against exact match, naive rapidfuzz and Splink 5 (the optional bench extra)
bench-resolve: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	$(BIN)/python bench/bench_resolve.py --left 30000 --right 100000 --repeat 3
	$(BIN)/python bench/bench_resolve.py --left 300000 --right 1000000 --no-naive
	$(BIN)/python bench/bench_resolve.py --left 30000 --right 100000 --birth-missing 0.2

quality: $(STAMP)
	$(BIN)/python bench/quality.py

# the same scoring on 40 districts the demo's generator draws from other seeds (~1 min)
quality-seeds: $(STAMP)
	$(BIN)/python bench/quality.py --seeds $$(seq -s, 1 40)

# mutants of the rules, identity, kinship, masking and access code ([tool.mutmut] in
# pyproject.toml), each run against the tests that reach it; resumes where it stopped (hours
# on 2 cores the first time); the score per module and every survivor: bench/mutation.py
mutation: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,mutation]'
	@# mutmut keeps mutants/ between runs; it is made anew when [tool.mutmut] changes
	@sed -n '/^\[tool.mutmut\]/,$$p' pyproject.toml | sha256sum > .mutmut-config
	@cmp -s .mutmut-config mutants/.config || rm -rf mutants
	$(BIN)/mutmut run || true
	@cp .mutmut-config mutants/.config && rm .mutmut-config
	$(BIN)/python bench/mutation.py

bench-upload: $(STAMP)
	$(BIN)/python bench/bench_upload.py --mb 200

bench-load: $(STAMP)
	$(BIN)/python bench/bench_load.py

clean:
	rm -rf $(VENV) out .mypy_cache .ruff_cache .pytest_cache

# the kinship oracle fixture: needs Node.js and the npm registry; CI only reads the JSON
oracle:
	cd fixtures/kinship/oracle && npm install --no-audit --no-fund --silent && \
	  { node oracle.js /tmp/oracle-male.json --sex 男 & node oracle.js /tmp/oracle-female.json --sex 女 & wait; } && \
	  node merge.js ../relationship-js-oracle.json /tmp/oracle-male.json /tmp/oracle-female.json
