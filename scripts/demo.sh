#!/usr/bin/env bash
# Set up the environment, then run the main job: mask the bundled patients data
# with the healthcare policy and measure the result.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -z "${MASKME_KEY:-}" ]; then
    # A fixed demo key, so the demo output is reproducible. Never use it for real data.
    export MASKME_KEY="demo-key-for-the-bundled-example-only"
    echo "MASKME_KEY is not set: using the demo key (never use it for real data)" >&2
fi
mkdir -p out
.venv/bin/maskme mask examples/data/patients.csv \
    -p examples/policies/healthcare.yaml \
    -o out/patients.masked.csv \
    --report out/patients.report.json --compare
.venv/bin/maskme measure out/patients.masked.csv -p examples/policies/healthcare.yaml
echo "wrote out/patients.masked.csv and out/patients.report.json" >&2
