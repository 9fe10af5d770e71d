#!/usr/bin/env bash
# Table 2 of the Disentangled-VAE paper for every method the toolkit has, on one sweep config:
#   bash benchmarks/run_table2.sh CONFIG OUT_DIR [zsl sweep options, e.g. --data-root DIR]
# Runs (or resumes) the sweep, writes zsl report --published into OUT_DIR, and lays it out as
# Table 2 in benchmarks/results/table2_<config name>.md. NOTE lines for the table's header can
# be given in the TABLE2_NOTE environment variable.
set -euo pipefail
cd "$(dirname "$0")/.."
config=${1:?config file}
out=${2:?output directory}
shift 2
zsl sweep "$config" -o "$out" -j "${JOBS:-2}" "$@" || echo "some trials failed: see $out/report.md"
zsl report "$out" --published
name=$(basename "$config" .toml)
args=()
if [ -n "${TABLE2_NOTE:-}" ]; then args+=(--note "$TABLE2_NOTE"); fi
python benchmarks/table2.py "$out" -o "benchmarks/results/table2_${name}.md" "${args[@]}"
