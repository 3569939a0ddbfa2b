# The two commands a newcomer needs: `make demo` and `make test`. Both install what they need
# into a project-local virtualenv (.venv) first; nothing goes to the home directory.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

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

# Test-only tools from npm (Prism serves SendGrid's API description), project-local in node_modules/.
# Without npm the recipe only warns: those tests skip on a laptop and fail under CI=true.
PRISM := node_modules/.bin/prism
$(PRISM): package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: the SendGrid contract tests will be skipped"; fi

tools: $(PRISM) ## Install the test-only tools (Prism)

demo: $(STAMP) ## Run the main job: the sample organisation over four simulated weeks
	$(BIN)/strides demo

lint: $(STAMP) ## ruff
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP) ## mypy (strict on the rules and the model)
	$(BIN)/mypy

unit: $(STAMP) $(PRISM) ## pytest only
	$(BIN)/python -m pytest

test: lint typecheck unit ## Everything CI runs: ruff, mypy, pytest

clean: ## Remove the virtualenv and the state folder
	rm -rf $(VENV) .strides
