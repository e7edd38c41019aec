# Every target works on a fresh clone: it creates .venv and installs what it needs first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CLI := $(BIN)/latent-atlas
# pytest on every core (pytest-xdist): one worker process per core, each taking whole test files, so a
# file's fixtures are built once; `make test PARALLEL=` runs it in one process
PARALLEL ?= --numprocesses=auto --dist=loadfile
# pytest keeps the test modules it rewrites as bytecode (in __pycache__, ignored by git) even where the
# environment turns bytecode off: rewriting them again cost each of its processes about 4 seconds
PYTEST := PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest $(PARALLEL)
ZOO := full-2d recon-2d kl-2d full-16d

.PHONY: run eval test check setup data zoo zoo-beta zoo-characters lint bench bench-literature bench-disentanglement clean

# Create the virtual environment and install Latent Atlas with its test tools (re-run when pyproject changes)
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# Install only
setup: $(VENV)/.installed

# Fetch and verify MNIST into $LATENT_ATLAS_HOME (default ~/.cache/latent-atlas)
data: setup
	$(CLI) data

# Train whatever is missing of the default models, with progress bars
zoo: data
	$(CLI) train --zoo

# Train the beta sweep behind the lab's rate-distortion curve (about 3 minutes on 2 cores)
zoo-beta: zoo
	$(CLI) train --zoo beta

# Render the synthetic characters set and train its zoo (about 2 minutes on 2 cores); `make run` serves it
# beside MNIST's
zoo-characters: setup
	$(CLI) train --zoo characters

# The front door: fetch MNIST and serve on http://127.0.0.1:8000 at once; on a first run the default
# models train meanwhile and appear on the page as each is done
run: setup
	$(CLI) serve

# The lab's evaluation of every default model (IWAE, FID-MNIST, ...), cached beside each model
eval: zoo
	@for model in $(ZOO); do $(CLI) eval $$model || exit 1; done

# Lint, type-check and run every test: the page scripts' unit tests (Node's own runner, no packages), then
# pytest with the browser, the servers, torchrun and the soak included (what CI runs)
test: setup lint
	node --test --test-reporter=dot tests/js/
	$(PYTEST)

# The fast tier, for working: lint, types and every test that starts no browser, server, torchrun or job
# process and does not soak (about 2 minutes on 2 cores once the trained fixtures are cached)
check: setup lint
	node --test --test-reporter=dot tests/js/
	$(PYTEST) -m "not browser and not slow"

# ruff (lint + format) and mypy
lint: setup
	$(BIN)/ruff check model app latent_atlas tests bench examples
	$(BIN)/ruff format --check model app latent_atlas tests bench examples
	$(BIN)/mypy model app latent_atlas

# Benchmarks that print figures: training speed (several minutes), conv against MLP (about 8 minutes),
# the characters zoo's time and neighbours (about 2 minutes), a first run from an empty home (about 8
# minutes), serving latency and the web stack's share of it, hovering while a job trains, an outside model
# against a built-in one, the exact posterior's speed and the bounds below it, browser responsiveness, a soak,
# hover decodes while 300 connections replay a finished job's events, and scaling out (the beta sweep side by
# side, DDP on 1 and 2 processes: about 15 minutes)
bench: zoo
	$(BIN)/python bench/train_speed.py
	$(BIN)/python bench/conv_vs_mlp.py
	$(BIN)/python bench/characters_zoo.py
	$(BIN)/python bench/cold_start.py
	$(BIN)/python bench/serve_latency.py
	$(BIN)/python bench/serve_floor.py
	$(BIN)/python bench/train_while_serving.py
	$(BIN)/python bench/outside_model.py
	$(BIN)/python bench/exact_posterior.py
	$(BIN)/python bench/browser_fps.py
	$(BIN)/python bench/serve_load.py
	$(BIN)/python bench/event_replays.py
	$(BIN)/python bench/scale_out.py
	$(BIN)/python bench/lab_evaluation.py
	$(BIN)/python bench/planes.py
	$(BIN)/python bench/point_metrics.py
	$(BIN)/python bench/million_points.py
	$(BIN)/python bench/latent_health.py

# Burda et al.'s Table 1: their VAE and IWAEs (k = 5, 50) trained 45 minutes each, then log p(x) at k = 5,000
bench-literature: data
	$(BIN)/python bench/literature.py

# The disentanglement sweep on sprites (a VAE, a beta-VAE, a beta-TCVAE, 3 seeds each), trained and scored
# by every metric: beta-TCVAE's MIG against the VAE's, seed for seed (a couple of hours on a 2-core CPU)
bench-disentanglement: setup
	$(BIN)/python bench/disentanglement.py

# Remove the virtual environment (data and models under the home are kept)
clean:
	rm -rf $(VENV)
