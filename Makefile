# Two commands: `make book` (the HTML thesis) and `make test` (the test suite).
# Each creates .venv when it is absent and installs the project with the tested pins.

PROFILE ?= smoke
CORES ?= 2
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
INSTALL_LOG := $(VENV)/install.log
# Optional data source for make book, e.g. DATASET=cbis-ddsm DATA_ROOT=/data/CBIS-DDSM N_PATIENTS=0
DATA_CONFIG := $(if $(DATASET),dataset=$(DATASET)) $(if $(DATA_ROOT),data_root=$(DATA_ROOT)) \
	$(if $(N_PATIENTS),n_patients=$(N_PATIENTS))

# Cluster runs (docs/gpu-and-cluster.md): make book EXECUTOR=slurm PARTITION=cpu GPU_PARTITION=gpu ACCOUNT=lab JOBS=50
EXECUTOR ?= local
JOBS ?= 50
CLUSTER_CONFIG := $(if $(filter slurm,$(EXECUTOR)),executor=slurm $(if $(PARTITION),slurm_partition=$(PARTITION)) \
	$(if $(GPU_PARTITION),slurm_gpu_partition=$(GPU_PARTITION)) $(if $(ACCOUNT),slurm_account=$(ACCOUNT)))
RUN_CONFIG := $(strip $(DATA_CONFIG) $(CLUSTER_CONFIG))
CLUSTER_ARGS := $(if $(filter slurm,$(EXECUTOR)),--workflow-profile workflow/profiles/slurm --jobs $(JOBS))
SNAKEMAKE_ARGS ?=  # further Snakemake options or targets, e.g. --dry-run, or --retries 0

.PHONY: book test test-fast env workflow clean sync check-site constraints cluster-check device-kit

env: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || \
		{ echo "make: step 'create $(VENV)' failed: $(PYTHON) -m venv (Python 3.11 with venv needed; PYTHON=... to choose)" >&2; exit 1; }
	@echo "make: installing the project into $(VENV) with the pins of constraints.txt (a few minutes; log: $(INSTALL_LOG))"
	@{ $(BIN)/python -m pip install --upgrade pip && \
	   $(BIN)/python -m pip install --progress-bar off -c constraints.txt -e '.[dev]'; } > $(INSTALL_LOG) 2>&1 || \
		{ tail -n 25 $(INSTALL_LOG) >&2; \
		  echo "make: step 'pip install -c constraints.txt -e .[dev]' failed; pip's error is above, the whole log in $(INSTALL_LOG)" >&2; exit 1; }
	@touch $@

# Regenerate constraints.txt in a clean venv (UPGRADE=1: newest releases within pyproject.toml's ranges)
constraints:
	UPGRADE=$(UPGRADE) PYTHON=$(PYTHON) tools/freeze_constraints.sh

# An interrupted build continues where it stopped (tools/run_workflow.py: stale locks cleared,
# incomplete outputs rerun); a second build of the same folder while one runs is refused
workflow: $(STAMP) $(if $(filter slurm,$(EXECUTOR)),cluster-check)
	PATH=$(abspath $(BIN)):$$PATH $(BIN)/python tools/run_workflow.py $(BIN)/snakemake --cores $(CORES) \
		$(SNAKEMAKE_ARGS) --configfile configs/$(PROFILE).yaml $(CLUSTER_ARGS) $(if $(RUN_CONFIG),--config $(RUN_CONFIG))

# Before a cluster run: every step's threads, memory and GPU fit a node of its partition (one line per problem)
cluster-check: $(STAMP)
	$(BIN)/python -m thesis_lib.cluster check --profile $(PROFILE) --partition "$(PARTITION)" \
		--gpu-partition "$(GPU_PARTITION)"

# What a lent GPU machine needs to run a profile (KIT_PROFILE, gpu unless named): wheels, the split
# Inception weights, the workflow's steps as a plan (tools/device_kit.py; docs/gpu-and-cluster.md)
KIT_PROFILE ?= gpu
device-kit: $(STAMP)
	$(BIN)/python tools/device_kit.py build --profile $(KIT_PROFILE) --out device-kit

# make book BUNDLE=run.tar (or a folder, e.g. published/<name>): render a run made elsewhere, from its
# results files alone (thesis_lib.book.render: no store, checkpoint or network needed)
ifdef BUNDLE
book: $(STAMP)
	PATH=$(abspath $(BIN)):$$PATH $(BIN)/python -m thesis_lib.book.render $(BUNDLE) --workers $(CORES)
else
book: workflow
	$(BIN)/jupyter-book build book -W -n --keep-going
	@echo "Open _build/html/index.html"
endif

# The built site in headless Chromium (links, images, notebook errors, network use, search);
# needs chromium and chromedriver (apt-get install chromium chromium-driver, or CHROME_BIN and CHROMEDRIVER)
SEARCH ?= FID
check-site: $(STAMP)
	$(BIN)/python -m thesis_lib.book.sitecheck _build/html --search $(SEARCH)

test: $(STAMP)
	PATH=$(abspath $(BIN)):$$PATH $(BIN)/python -m pytest

# The unit tests alone: no papermill runs, book build, browser, SIGKILL-resume or DDP run
test-fast: $(STAMP)
	PATH=$(abspath $(BIN)):$$PATH $(BIN)/python -m pytest -m "not slow" -q

# Re-pair the notebooks after editing their .py files
sync: $(STAMP)
	$(BIN)/jupytext --sync notebooks/*.py

clean:
	rm -rf _build book/results .snakemake _bundle
