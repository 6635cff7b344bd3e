# Two commands for a fresh machine (Debian, Python 3.11, Node 20):
#   make site   set everything up and build the sample site into site/
#   make test   set everything up (incl. Chromium and ical.js) and run the whole test suite
# For staff: make check, make import FILE=表格.xlsx CAMPAIGN=专题编号, make serve.
# Dependencies come from requirements.lock (exact versions and hashes); `make lock` updates it.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: site test setup setup-test serve check import lock lint golden bench clean

# Installed from the lock, hashes required; then kepu itself without resolving anything again
# (setuptools, its build backend, is in the lock too, so nothing unpinned is fetched).
$(BIN)/kepu: pyproject.toml requirements.lock
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(BIN)/kepu

setup: $(BIN)/kepu

site: setup
	$(BIN)/kepu build

serve: setup
	$(BIN)/kepu serve

check: setup
	$(BIN)/kepu check $(FILES)

import: setup
	@test -n "$(FILE)" -a -n "$(CAMPAIGN)" || { echo "用法：make import FILE=表格.xlsx CAMPAIGN=专题编号"; exit 2; }
	$(BIN)/kepu import "$(FILE)" --campaign "$(CAMPAIGN)"

# Re-resolve every dependency (pyproject.toml, its [test] extra and the build backend) to the
# newest allowed versions with their hashes. pip-tools runs from its own venv so that it never
# changes the versions installed in .venv. Run after changing pyproject.toml's dependencies.
lock:
	test -x .venv-lock/bin/pip-compile || { $(PY) -m venv .venv-lock && .venv-lock/bin/pip install --quiet pip-tools; }
	.venv-lock/bin/pip-compile --quiet --upgrade --generate-hashes --allow-unsafe --all-build-deps \
	  --extra test --strip-extras --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml

# Chromium from Debian for the browser tests (a test tool's own browser download does not work
# here), poppler-utils to look at the printed district notice (tests/artifacts/*.png), and ical.js
# and axe-core from npm for strict feed parsing and the accessibility audit.
setup-test: setup
	@{ command -v chromium >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi cjk; } || { \
	  echo "安装 Chromium、中文字体和 poppler-utils（Debian 软件包）…"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk poppler-utils >/dev/null; }
	@{ test -d tests/js/node_modules/ical.js && test -d tests/js/node_modules/axe-core; } || npm ci --prefix tests/js --no-audit --no-fund --silent

test: setup-test
	$(BIN)/ruff check generator tests bench
	$(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check generator tests bench

golden: setup
	KEPU_REGEN_GOLDEN=1 $(BIN)/pytest -q tests/test_feeds.py -k golden

clean:
	rm -rf site .site-* $(VENV) .venv-lock tests/js/node_modules
