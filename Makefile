# cam2seg task runner. `make book` = the main job (whole book on the embedded offline default);
# `make test` = the test suite. Both install what they need first (idempotent); only `make test`
# installs Chromium (its browser tests need it), `make book` never does.
PYTHON ?= python3
PROFILE ?= embedded
SETUP_STAMP := .cache/setup.stamp
BROWSER_STAMP := .cache/browser.stamp

.PHONY: setup book test test-fast bench demo clean notebooks

$(SETUP_STAMP): pyproject.toml
	$(PYTHON) -m pip install -q -e ".[dev]"
	@mkdir -p $(dir $@) && touch $@

# Chromium (Debian package) is only for the browser tests (`make test`), never for `make book`.
$(BROWSER_STAMP):
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core) \
	      || echo "chromium install failed: browser tests will be skipped"; \
	  else echo "chromium not found (install Debian 'chromium'): browser tests will be skipped"; fi; }
	@mkdir -p $(dir $@) && touch $@

setup: $(SETUP_STAMP)

book: setup
	$(PYTHON) book/build.py --profile $(PROFILE)

test: setup $(BROWSER_STAMP)
	$(PYTHON) -m pytest -q -ra --durations=15

test-fast: setup
	$(PYTHON) -m pytest -q -m "not slow and not browser"

bench: setup
	$(PYTHON) benchmarks/bench_pipeline.py
	$(PYTHON) benchmarks/bench_grid.py
	$(PYTHON) benchmarks/bench_workers.py
	$(PYTHON) benchmarks/bench_demo.py

demo: setup
	$(PYTHON) -m cam2seg_utils.demo

notebooks:
	$(PYTHON) book/build.py --convert-only

clean:
	rm -rf _build book/_build book/generated outputs .cache test-artifacts
