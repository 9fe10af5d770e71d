#!/usr/bin/env bash
# Baselines table: every built-in method on digits, synthetic and SNU36, three seeds each,
# published defaults. Resumable: re-running skips completed trials.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-sweeps/baselines}
zsl sweep benchmarks/configs/baselines.toml -o "$out" -j "${JOBS:-2}"
zsl report "$out"
cp "$out/report.md" benchmarks/results/baselines.md
