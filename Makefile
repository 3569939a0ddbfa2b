# The two commands a newcomer needs: `make demo` and `make test`. Both install what they need
# into a project-local virtualenv (.venv) first; nothing goes to the home directory.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# Independent parsers the tests check invites with (ical.js), in a project-local node_modules.

.PHONY: demo test lint typecheck unit reliability install tools browser clean help

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "strides needs Python 3.11 or newer; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --upgrade pip
	$(BIN)/python -m pip install -qq -e '.[dev]'
	@touch $@

install: $(STAMP) ## Create .venv and install strides with its dev tools

# Test-only tools from npm, project-local in node_modules/: Prism serves SendGrid's API description,
# ical.js (Thunderbird's parser) checks every invite. Without npm (and no root to install Node.js)
# the recipe only warns: those tests skip on a laptop and fail under CI=true.
NODE_STAMP := node_modules/.installed-stamp
$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq nodejs npm; } || true
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: the SendGrid contract and ical.js tests will be skipped"; fi

tools: $(NODE_STAMP) browser ## Install the test-only tools (Prism, ical.js into node_modules/; Chromium)

# Headless Chromium (Debian) takes the digest screenshots; an emoji font so they show as people see them.
browser:
	@if command -v chromium >/dev/null && fc-list 2>/dev/null | grep -qi "Noto Color Emoji"; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			chromium fonts-dejavu-core fonts-noto-color-emoji >/dev/null; \
	else echo "chromium not found (apt-get install chromium): the screenshot tests will be skipped"; fi

demo: $(STAMP) ## Run the main job: the sample organisation over four simulated weeks
	$(BIN)/strides demo

lint: $(STAMP) ## ruff
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP) ## mypy (strict on the domain and the rules)
	$(BIN)/mypy

unit: $(STAMP) $(NODE_STAMP) browser ## pytest only
	$(BIN)/python -m pytest

test: lint typecheck unit ## Everything CI runs: ruff, mypy, pytest

reliability: $(STAMP) ## The reliability suite alone (tests/reliability; part of make test)
	$(BIN)/python -m pytest tests/reliability

clean: ## Remove the virtualenv and the state folder
	rm -rf $(VENV) .strides
