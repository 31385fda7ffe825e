# Two commands on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STORE  ?= $(or $(AIWF_STORE),var/store)

.PHONY: setup build serve test lint

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# The query UI's YASGUI bundle, from the npm registry as package-lock.json pins it.
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm not found: install Node.js and npm (Debian: apt-get install nodejs npm); the query UI at / needs them" >&2; exit 1; }
	npm ci --no-audit --no-fund --ignore-scripts
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
