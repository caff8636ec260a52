# Two commands: `make build` and `make test`. Each sets up its own virtual environment.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: build test check lint bench fuzz validate link-offline clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	PYTHONWARNINGS=ignore $(BIN)/pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

build: $(STAMP)
	$(BIN)/healthcoop build

# installs the external judges first where it may (root or passwordless sudo); see
# .ci/tools-if-allowed. The tests run on every core (pytest-xdist), a file's tests in one
# worker, so that a file's module fixtures (a built release, a loaded store) are made once.
test: $(STAMP)
	@bash .ci/tools-if-allowed
	$(BIN)/pytest -n auto --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check pipeline tests benchmarks

check: lint test

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

# the property-based fuzzers with a long budget (make test runs a small seeded one)
FUZZ_EXAMPLES ?= 300
fuzz: $(STAMP)
	HEALTHCOOP_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -q -p no:cacheprovider \
	    tests/test_fuzz.py tests/test_hostile_inputs.py tests/test_link_hardening.py \
	    tests/test_dataset_meta.py --hypothesis-show-statistics

# the commands a maintainer runs most, without activating the virtual environment
validate: $(STAMP)
	$(BIN)/healthcoop validate

link-offline: $(STAMP)
	$(BIN)/healthcoop link --offline

clean:
	rm -rf output $(VENV)
