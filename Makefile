# `make test` and `make demo` create .venv themselves on a fresh machine.
PYTHON ?= python3
VENV := .venv
# CPU wheel by default. On a GPU machine: make TENSORFLOW='tensorflow[and-cuda]==2.21.*'
TENSORFLOW ?= tensorflow-cpu==2.21.*
# tf-keras (needed by TFP 0.25 under Keras 3) declares a dependency on the
# `tensorflow` distribution, which the CPU wheel does not satisfy by name:
# installed without dependencies so pip does not fetch the full wheel beside it.
TF_KERAS ?= tf-keras==2.21.*

.PHONY: test demo benchmark clean

$(VENV)/.installed: setup.cfg pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q "$(TENSORFLOW)"
	$(VENV)/bin/pip install -q --no-deps "$(TF_KERAS)"
	$(VENV)/bin/pip install -q -e ".[test,examples]"
	touch $@

test: $(VENV)/.installed
	$(VENV)/bin/python -m pytest -q tests

demo: $(VENV)/.installed
	$(VENV)/bin/python examples/categorical_vae.py

clean:
	rm -rf $(VENV) examples/out
