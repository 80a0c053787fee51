# Qinqing developer entry points. `make run` serves the demo; `make test` runs every check CI runs.
# Installs are file targets with stamps, so a second `make run` only reinstalls what changed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test install clean

run: install
	scripts/run.sh

test: install
	scripts/test.sh

install: $(VENV)/.installed node_modules/.installed

# Re-run pip only when the pinned dependencies change. The editable install keeps `qinqing` importable
# from anywhere (gunicorn, manage.py, pytest) while the code is edited in place.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check --progress-bar off -e '.[test]'
	touch $@

# htmx comes from npm, never from a CDN. Without npm the pages still work, only without partial updates,
# so a missing npm is a message, not a failure (and no stamp: the next run tries again).
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund && touch $@; \
	else \
		echo "npm not found: skipping htmx; the app works without it (no partial page updates)."; \
	fi

# Forget the install stamps and collected static files; the virtualenv and the database are kept.
clean:
	rm -f $(VENV)/.installed node_modules/.installed
	rm -rf var/static
