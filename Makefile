# infraplan — set-up and checks. `make demo` and `make test` are all a fresh clone needs.
# The interpreter .venv is made from (`make PYTHON=...` picks another; an existing .venv is kept: `make clean` first):
# the first of PYTHON_CANDIDATES that runs, is 3.11 or newer and can make a venv (`ensurepip`: Debian's python3-venv),
# else `python3` on PATH. The distribution's comes first: Debian builds CPython with PGO and LTO and links it
# statically (/usr/share/doc/python3.11/changelog.Debian.gz: "Enable LTO/PGO builds on some architectures"), pyenv
# builds from source without them, and on the development VM a never-seen estimate takes 12.4 % fewer instructions on
# Debian's 3.11.2 than on pyenv's 3.11.7, answers byte-identical, while pyenv's 3.12.1 / 3.13.0 take 5.8 / 2.1 % more
# (validation/notes/serving_speed_tried.md, hE session 54): the build, not the version, is the speed.
PYTHON_CANDIDATES ?= /usr/bin/python3 python3
PYTHON ?= $(or $(firstword $(foreach p,$(PYTHON_CANDIDATES),$(shell $(p) -c \
	'import ensurepip, sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && echo $(p)))),python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: demo test lint typecheck imports validate bench clean web browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,ray]'
	touch $(STAMP) $@

# Headline scenario: Llama 3 405B on 16,384 H100 of the 24,576-H100 RoCE cluster at the Llama 3 paper's TP8 PP16
# DP128, on the default stack (nemo-26.04), whose Megatron-Bridge recipe splits 126 + 2 = 128 slots: VPP 8 (VPP 7's
# 112 chunks its even split refuses). README's first Usage line runs the paper's own plan: VPP 7, --stack meta-llama3.
demo: $(STAMP)
	$(BIN)/infraplan train llama3-405b --system meta-genai-roce-24k --gpus 16384 \
		--tp 8 --pp 16 --cp 1 --vpp 8 --seq-len 8192 --global-batch 2048 --micro-batch 1 \
		--recompute none --zero 3 --dtype bf16

# The web app and JSON API on http://127.0.0.1:8000/ (HOST=0.0.0.0 PORT=9000 make web to change).
HOST ?= 127.0.0.1
PORT ?= 8000
web: $(STAMP)
	$(BIN)/infraplan web --host $(HOST) --port $(PORT)

# Debian's Chromium for tests/web's Playwright tests, when missing and apt-get can install it (root). Never
# `playwright install`; where no browser can be installed the browser tests skip with a message.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
		echo "make browser: no chromium installed; the browser tests will skip"; }

# The CI gates: lint, import layers and cycles, then the tests on every core (pytest-xdist; `make test WORKERS=0`
# runs them in this process, e.g. under a debugger) with the type check (strict on hardware/ops/training/network)
# running beside them: mypy's report prints after pytest's, and the target fails if either fails.
WORKERS ?= auto
# Bytecode is cached (in the git-ignored __pycache__ folders) even where the shell sets PYTHONDONTWRITEBYTECODE:
# otherwise every xdist worker and every `infraplan` subprocess a test starts compiles src/ and re-runs pytest's
# assertion rewrite of tests/ (~2 CPU s per process). An empty value is "unset" to Python.
test: export PYTHONDONTWRITEBYTECODE =
test: $(DEV_STAMP) browser
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/lint-imports
	@log=$$(mktemp); $(BIN)/mypy >$$log 2>&1 & mypy_pid=$$!; \
	echo "$(BIN)/mypy (in the background) and $(BIN)/python -m pytest -q -n $(WORKERS) --dist worksteal"; \
	$(BIN)/python -m pytest -q -n $(WORKERS) --dist worksteal; tests=$$?; \
	wait $$mypy_pid; types=$$?; echo "mypy:"; cat $$log; rm -f $$log; \
	[ $$tests -eq 0 ] && [ $$types -eq 0 ]

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests benchmarks

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

imports: $(DEV_STAMP)
	$(BIN)/lint-imports

validate: $(STAMP)
	$(BIN)/infraplan validate

# Bytecode cached here too (as `test`): a process a benchmark times loads its modules as a user's install does, from
# .pyc, not compiled from src/ on each run (benchmarks/single_estimate.py's `train` process: hS73).
bench: export PYTHONDONTWRITEBYTECODE =
bench: $(STAMP)
	for f in benchmarks/*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache .mypy_cache .import_linter_cache
