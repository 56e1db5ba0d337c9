#!/usr/bin/env bash
# Create .venv (if missing) and install MaskMe with its test dependencies into it.
set -euo pipefail
cd "$(dirname "$0")/.."
python_bin=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$python_bin" -m venv .venv
fi
# pip on some machines warns once per package about index folders that do not
# exist; those lines carry no information, so they are filtered out.
quiet_pip() {
    .venv/bin/python -m pip "$@" --quiet --disable-pip-version-check 2> >(grep -v "^WARNING: Location" >&2)
}
quiet_pip install --upgrade pip
quiet_pip install -e ".[dev]"
# Compile MaskMe's modules, as pip does for a regular install, so that no
# process compiles them again where PYTHONDONTWRITEBYTECODE is set.
.venv/bin/python -m compileall -q src
