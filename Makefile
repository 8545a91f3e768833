# Two commands: `make run` serves the admin with demo data; `make test` runs every test.
# `make run` serves through gunicorn (as in production); `DEV=1 make run` uses Flask's
# development server with the debugger and reloader instead.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
# Also the default PUBLIC_BASE_URL (http://127.0.0.1:$(PORT)) of the links sent to members.
export PORT
export FLASK_APP := admin_app

.PHONY: run test lint system-deps pdf-deps benchmark clean localstripe

# WeasyPrint (the documents' PDFs) needs Pango and a font, for `make run` too.
pdf-deps:
	@if ! ldconfig -p | grep -q libpangoft2-1.0 || [ ! -d /usr/share/fonts/truetype/dejavu ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core >/dev/null; \
	fi

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(VENV)/.installed pdf-deps
	$(BIN)/flask db upgrade
	$(BIN)/flask seed demo
	@echo ""
	@echo "  Admin:  http://127.0.0.1:$(PORT)/admin/"
	@echo "  Login:  admin@example.com / admin"
	@echo ""
	@$(BIN)/flask worker --workers 2 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	if [ "$(DEV)" = "1" ]; then \
		$(BIN)/flask run --debug --host 127.0.0.1 --port $(PORT); \
	else \
		$(BIN)/gunicorn --workers 2 --threads 4 --timeout 60 --bind 127.0.0.1:$(PORT) \
			--access-logfile - 'admin_app:create_app()'; \
	fi

# What the tests need from the system: Debian's Chromium, PostgreSQL server binaries,
# Redis (the job engine's storage for several servers), and Pango with a font for WeasyPrint
# (the documents' PDFs; `make run` needs these too).
system-deps:
	@if [ ! -x /usr/bin/chromium ] || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
			|| [ ! -x /usr/bin/redis-server ] || ! ldconfig -p | grep -q libpangoft2-1.0 \
			|| [ ! -d /usr/share/fonts/truetype/dejavu ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
			postgresql redis-server libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
			>/dev/null; \
	fi

# One worker per core (pytest-xdist), each with its own PostgreSQL server, localstripe and
# databases; a file's tests run on one worker (--dist loadfile: a module's session-wide setup,
# such as the demo clinic, is made once). The suite's wall time is printed after pytest's
# summary. PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= auto
test: $(VENV)/.installed system-deps
	@start=$$(date +%s); status=0; \
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS) || status=$$?; \
	echo "make test: the suite took $$(( $$(date +%s) - start )) s"; \
	exit $$status

# A Stripe-compatible test server (localstripe) on 127.0.0.1, to try the panel on the Stripe
# gateway: see the README, "Trying the Stripe gateway locally".
LOCALSTRIPE_PORT ?= 8420
localstripe: $(VENV)/.installed
	$(BIN)/python -m tests.localstripe $(LOCALSTRIPE_PORT)

lint: $(VENV)/.installed
	$(BIN)/ruff check .

benchmark: $(VENV)/.installed
	$(BIN)/python benchmarks/seed_scale.py --contacts 100000
	$(BIN)/python benchmarks/admin_pages.py --contacts 100000

clean:
	rm -rf $(VENV) instance .pytest_cache
