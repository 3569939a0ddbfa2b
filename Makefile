# The two commands a newcomer needs: `make demo` and `make test`. Both install what they need
# into a project-local virtualenv (.venv) first; nothing goes to the home directory.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# Independent parsers the tests check invites with (ical.js), in a project-local node_modules.
TOOLS_STAMP := tests/tools/node_modules/.installed-stamp

.PHONY: demo test lint typecheck unit install tools clean help

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "strides needs Python 3.11 or newer; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --upgrade pip
	$(BIN)/python -m pip install -qq -e '.[dev]'
	@touch $@

install: $(STAMP) ## Create .venv and install strides with its dev tools

$(TOOLS_STAMP): tests/tools/package.json tests/tools/package-lock.json
	@command -v npm >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq nodejs npm; } \
		|| { echo "npm is missing: install Node.js to run the ical.js tests"; exit 1; }
	npm ci --prefix tests/tools --no-audit --no-fund --loglevel=error
	@touch $@

tools: $(TOOLS_STAMP) ## Install the test suite's outside parsers (ical.js) into tests/tools

demo: $(STAMP) ## Run the main job: the sample organisation over four simulated weeks
	$(BIN)/strides demo

lint: $(STAMP) ## ruff
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP) ## mypy (strict on the rules and the model)
	$(BIN)/mypy

unit: $(STAMP) $(TOOLS_STAMP) ## pytest only
	$(BIN)/python -m pytest

test: lint typecheck unit ## Everything CI runs: ruff, mypy, pytest

clean: ## Remove the virtualenv and the state folder
	rm -rf $(VENV) .strides tests/tools/node_modules
