# Two commands for a fresh machine (Debian, Python 3.11, Node 20):
#   make site   set everything up and build the sample site into site/
#   make test   set everything up (incl. Chromium and ical.js) and run the whole test suite
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: site test setup setup-test serve check lint golden bench clean

$(BIN)/kepu: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(BIN)/kepu

setup: $(BIN)/kepu

site: setup
	$(BIN)/kepu build

serve: setup
	$(BIN)/kepu serve

check: setup
	$(BIN)/kepu check

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
	rm -rf site .site-* $(VENV) tests/js/node_modules
