#!/usr/bin/env bash
# Set up the environment, type-check the package, then run the whole test suite on 2 workers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m mypy src/maskme
exec .venv/bin/python -m pytest -n 2 "$@"
