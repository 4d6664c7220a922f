# One command each, on a fresh machine with Python 3.11:
#   make demo   creates .venv, installs semiology, runs the demo LOSO study (report in out/demo)
#   make test   creates .venv, installs semiology with test extras (and Ray), runs the test suite
#   make test-vision   creates .venv-vision (the `vision` extra: torch 2.14.1 + torchvision 0.29.1,
#               facenet-pytorch) and runs the detector backends' tests that need it
PYTHON ?= python3
VENV ?= .venv
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: demo test test-vision bench install clean browser

$(STAMP): setup.cfg pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "semiology needs Python 3.11 (set PYTHON=python3.11)"'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet -c constraints.txt -e ".[dev,ray]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/python tools/loso_eval.py --out out/demo

# The review app's browser tests drive Debian's chromium through chromium-driver (a test tool's own
# browser download does not work here); installed when missing and apt-get can (as root).
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) \
				|| echo "could not install chromium and chromium-driver: the browser tests will skip (or fail under SEMIOLOGY_REQUIRE_BROWSER)" >&2; \
		else echo "the browser tests need: sudo apt-get install -y chromium chromium-driver" >&2; fi; \
	fi

test: $(STAMP) browser
	$(VENV)/bin/python -m pytest

bench: $(STAMP)
	$(VENV)/bin/python benchmarks/demo_runtime.py
	$(VENV)/bin/python benchmarks/agcn_throughput.py

# A second environment for the torchvision and MTCNN backends: torch 2.14.1 is the only torch with a
# working torchvision here (5.5 GB), and facenet-pytorch's pins cannot be met (hence --no-deps).
VISION_VENV ?= .venv-vision
VISION_STAMP := $(VISION_VENV)/.installed
VISION_TESTS ?= tests/detect/test_backends_by_config.py tests/detect/test_mtcnn.py tests/detect/test_optional_adapters.py

$(VISION_STAMP): setup.cfg pyproject.toml constraints-vision.txt
	$(PYTHON) -m venv $(VISION_VENV)
	$(VISION_VENV)/bin/pip install --quiet -c constraints-vision.txt -e ".[dev,vision]"
	$(VISION_VENV)/bin/pip install --quiet --no-deps facenet-pytorch==2.6.0
	touch $(VISION_STAMP)

test-vision: $(VISION_STAMP)
	$(VISION_VENV)/bin/python -m pytest $(VISION_TESTS)

clean:
	rm -rf $(VENV) $(VISION_VENV) out build *.egg-info
