# Two commands on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STORE  ?= $(or $(AIWF_STORE),var/store)

.PHONY: setup build serve test lint

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

build: setup
	$(BIN)/aiwf build

serve: setup
	test -e $(STORE) || $(BIN)/aiwf build
	$(BIN)/aiwf serve

# pytest exits 5 when it collects no tests: that is a failure too.
test: setup
	$(BIN)/python -m pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; \
	exit $$status

lint: setup
	$(BIN)/ruff check src tests
