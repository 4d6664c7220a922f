# One command each, on a fresh machine with Python 3.11:
#   make demo   creates .venv, installs semiology, runs the demo LOSO study (report in out/demo)
#   make test   creates .venv, installs semiology with test extras, runs the test suite
PYTHON ?= python3
VENV ?= .venv
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: demo test bench install clean

$(STAMP): setup.cfg pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "semiology needs Python 3.11 (set PYTHON=python3.11)"'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/python tools/loso_eval.py --out out/demo

test: $(STAMP)
	$(VENV)/bin/python -m pytest

bench: $(STAMP)
	$(VENV)/bin/python benchmarks/demo_runtime.py
	$(VENV)/bin/python benchmarks/agcn_throughput.py

clean:
	rm -rf $(VENV) out build *.egg-info
