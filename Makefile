# Two commands: `make build` and `make test`. Each sets up its own virtual environment.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: build test check lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	PYTHONWARNINGS=ignore $(BIN)/pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

build: $(STAMP)
	$(BIN)/healthcoop build

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check pipeline tests benchmarks

check: lint test

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf output $(VENV)
