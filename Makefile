# cam2seg task runner. `make book` = the main job (whole book on the embedded offline default);
# `make test` = the test suite. Both install what they need first (idempotent); only `make test`
# installs Chromium (its browser tests need it) and SLURM (its HPC tests start a throwaway
# one-node cluster), `make book` never does.
PYTHON ?= python3
PROFILE ?= embedded
SETUP_STAMP := .cache/setup.stamp
BROWSER_STAMP := .cache/browser.stamp
SLURM_STAMP := .cache/slurm.stamp

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

# Debian's slurm-wlm and munge are only for the SLURM tests (tests/test_hpc_slurm.py starts munged,
# slurmctld and slurmd as root from its own config in a temporary folder), never for `make book`.
$(SLURM_STAMP):
	@{ command -v slurmctld && command -v slurmd && command -v munged; } >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge) \
	      || echo "slurm-wlm/munge install failed: SLURM tests will be skipped"; \
	  else echo "slurm-wlm/munge not found (root and Debian apt install them): SLURM tests will be skipped"; fi; }
	@mkdir -p $(dir $@) && touch $@

setup: $(SETUP_STAMP)

book: setup
	$(PYTHON) book/build.py --profile $(PROFILE)

test: setup $(BROWSER_STAMP) $(SLURM_STAMP)
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
