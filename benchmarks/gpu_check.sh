#!/usr/bin/env bash
# The GPU check: set up with the CUDA torch build, run the tests that need CUDA, train on
# CUDA and check ONNX parity on onnxruntime's CUDA provider, measure ORT CUDA / ORT CPU /
# torch CUDA throughput, and time a full 150-epoch DVAE run on synthetic-cub (goal: < 60 s
# on one H100). Writes benchmarks/results/gpu_check.md (GPU named by nvidia-smi) and
# benchmarks/results/onnx_inference_cuda.md. Meant to finish in under 10 minutes.
#
#   bash benchmarks/gpu_check.sh                 # on a GPU machine, from a fresh checkout
#   bash benchmarks/gpu_check.sh --cpu-dry-run   # the same steps on CPU, tiny sizes, no GPU
#   bash benchmarks/gpu_check.sh --offline       # no package index: venv over the system's
#                                                # torch/onnxruntime-gpu, repo installed offline
#
# Setup: `make setup TORCH=cuda` (PyPI's CUDA 13 torch, onnxruntime-gpu with its CUDA wheels)
# unless $VENV (default: the repo's .venv) already has a CUDA torch. The dry run uses the
# existing CPU setup and writes its reports under the work folder, never under results/.
# Exits non-zero at the first failing step, naming it.
set -euo pipefail

DRY=0
OFFLINE=0
for arg in "$@"; do
    case "$arg" in
    --cpu-dry-run) DRY=1 ;;
    --offline) OFFLINE=1 ;;
    *) echo "error: unknown option '$arg' (use --cpu-dry-run or --offline)" >&2; exit 2 ;;
    esac
done

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$REPO/.venv}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/zsl-gpu-check.XXXXXX")"
STEP="start"
trap 'status=$?; if [ $status -ne 0 ]; then echo "gpu_check: FAILED at step: $STEP (exit $status); files in $WORK" >&2; fi' EXIT

step() { STEP="$1"; echo; echo "== $1"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

if [ "$DRY" = 1 ]; then
    DEVICE=cpu PROVIDER=cpu RESULTS="$WORK/results"
    DATASET=toy CUB=toy EPOCHS=(--epochs 1) TINY=(-p hidden_scale=0.05 -p classifier_epochs=1)
else
    DEVICE=cuda PROVIDER=cuda RESULTS="$REPO/benchmarks/results"
    DATASET=synthetic CUB=synthetic-cub EPOCHS=() TINY=()
fi
mkdir -p "$RESULTS"
REPORT="$RESULTS/gpu_check.md"
T0="$(now)"

step "setup"
if [ "$OFFLINE" = 1 ]; then
    if [ ! -x "$VENV/bin/python" ]; then
        python3 -m venv --system-site-packages "$VENV"
    fi
    for d in "$REPO" "$REPO/plugins/dvae" "$REPO/exporters/onnx"; do
        if [ -f "$d/pyproject.toml" ]; then
            "$VENV/bin/python" -m pip install -q --no-index --no-deps --no-build-isolation -e "$d"
        fi
    done
elif [ "$DRY" = 1 ]; then
    make -C "$REPO" setup
elif ! "$VENV/bin/python" -c 'import sys, torch; sys.exit(not torch.version.cuda)' 2>/dev/null; then
    [ -d "$VENV" ] && { echo "error: $VENV has no CUDA torch: run make clean first" >&2; exit 1; }
    make -C "$REPO" setup TORCH=cuda
fi
PY="$VENV/bin/python"
zsl() { "$PY" -m zsl_toolkit "$@"; }
echo "setup: $(secs "$T0") s"

step "machine"
if [ "$DRY" = 1 ]; then
    GPU="none (CPU dry run: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
else
    GPU="$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -n 1)"
fi
"$PY" - "$DEVICE" <<'EOF'
import sys

import onnxruntime as ort
import torch

print(f"torch {torch.__version__} (CUDA {torch.version.cuda}), cuda available: {torch.cuda.is_available()}")
print(f"onnxruntime {ort.__version__}, providers: {ort.get_available_providers()}")
if sys.argv[1] == "cuda" and not torch.cuda.is_available():
    raise SystemExit("torch sees no CUDA device")
EOF
echo "GPU: $GPU"

step "tests that need CUDA"
t0="$(now)"
(cd "$REPO" && "$PY" -m pytest -q -rs -s -m cuda tests) | tee "$WORK/pytest.txt"
if [ "$DRY" = 0 ] && grep -q "skipped" "$WORK/pytest.txt"; then
    echo "error: tests skipped on the GPU machine (see above)" >&2; exit 1
fi
(cd "$REPO" && "$PY" -m pytest -q -rs exporters/onnx/tests/test_onnx_cuda.py) | tee "$WORK/pytest_onnx.txt"
TESTS="$(tail -n 1 "$WORK/pytest.txt"); zsl-onnx CUDA path: $(tail -n 1 "$WORK/pytest_onnx.txt"); $(secs "$t0") s"

step "train dvae on $DATASET (--device $DEVICE), export, ONNX parity (--provider $PROVIDER)"
t0="$(now)"
zsl train -m dvae -d "$DATASET" --device "$DEVICE" --quiet --out "$WORK/run" \
    ${EPOCHS[@]+"${EPOCHS[@]}"} ${TINY[@]+"${TINY[@]}"}
grep -q "\"device\": \"$DEVICE" "$WORK/run/run.json" || { echo "run.json: not on $DEVICE" >&2; exit 1; }
zsl export "$WORK/run" --format onnx --output "$WORK/model.onnx"
zsl predict "$WORK/model.onnx" --dataset "$DATASET" --provider "$PROVIDER" --json >"$WORK/onnx.json"
zsl evaluate "$WORK/run" --json >"$WORK/torch.json"
PARITY="$("$PY" - "$WORK" "$PROVIDER" <<'EOF'
import json
import sys

import numpy as np
from zsl_onnx import OnnxPredictor

work, provider = sys.argv[1], sys.argv[2]
onnx_m = json.load(open(f"{work}/onnx.json"))["gzsl"]
torch_m = json.load(open(f"{work}/torch.json"))["gzsl"]
p = OnnxPredictor(f"{work}/model.onnx", provider, notice=None)
cpu = OnnxPredictor(f"{work}/model.onnx", "cpu")
want = {"cuda": "CUDAExecutionProvider", "cpu": "CPUExecutionProvider"}[provider]
if p.providers[0] != want:
    raise SystemExit(f"the {provider} session runs on {p.providers[0]}")
x = np.abs(np.random.default_rng(0).standard_normal((8192, p.feature_dim))).astype(np.float32)
(s1, p1), (s0, p0) = p.predict(x, 1000), cpu.predict(x, 1000)
gaps = " ".join(f"{k} {100 * onnx_m[k]:.2f}/{100 * torch_m[k]:.2f}" for k in "USH")
print(f"ONNX on {want} vs zsl evaluate (U/S/H %): {gaps}; vs ORT CPU on 8192 random rows: "
      f"max |score diff| {np.abs(s1 - s0).max():.2e}, argmax agree {(p1 == p0).mean():.4f}")
if any(abs(onnx_m[k] - torch_m[k]) > 0.01 for k in "USH") or (p1 == p0).mean() < 0.999:
    raise SystemExit("ONNX parity on the device failed")
EOF
)"
echo "$PARITY"
PARITY_S="$(secs "$t0")"

step "throughput: ORT $PROVIDER vs ORT CPU vs torch $DEVICE at batch 1 / 256 / 4096"
t0="$(now)"
dry_flag=()
[ "$DRY" = 1 ] && dry_flag=(--cpu-dry-run)
(cd "$REPO/benchmarks" && "$PY" bench_onnx_inference.py --device cuda ${dry_flag[@]+"${dry_flag[@]}"} \
    --output "$RESULTS/onnx_inference_cuda.md")
THROUGHPUT_S="$(secs "$t0")"

step "dvae, 150 epochs, on $CUB (--device $DEVICE), timed"
t0="$(now)"
zsl train -m dvae -d "$CUB" --device "$DEVICE" --quiet --out "$WORK/cub" \
    ${EPOCHS[@]+"${EPOCHS[@]}"} ${TINY[@]+"${TINY[@]}"}
DVAE_S="$(secs "$t0")"
H="$("$PY" -c 'import json, sys; m = json.load(open(sys.argv[1]))["gzsl"]; print(" ".join(f"{k}={100 * m[k]:.2f}" for k in "USH"))' "$WORK/cub/metrics.json")"
# Epoch times from the run's log: training alone, without start-up, checkpoints and evaluation.
STAGES="$("$PY" -c 'import json, sys
t = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    t[r["stage"]] = t.get(r["stage"], 0.0) + r["seconds"]
print(", ".join(f"{k} {v:.1f} s" for k, v in t.items()))' "$WORK/cub/log.jsonl")"
echo "dvae on $CUB: $DVAE_S s wall (goal < 60 s on one H100); epochs: $STAGES; $H"

STEP="report"
{
    echo "# GPU check"
    echo
    if [ "$DRY" = 1 ]; then echo "CPU DRY RUN: tiny sizes, CPU standing in for CUDA; no GPU figure here."; echo; fi
    echo "GPU: $GPU. Commit $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown), $(date -u +%Y-%m-%dT%H:%MZ)."
    echo
    echo "- tests needing CUDA: $TESTS"
    echo "- train dvae on $DATASET + export + parity: $PARITY_S s; $PARITY"
    echo "- throughput table: $RESULTS/onnx_inference_cuda.md ($THROUGHPUT_S s)"
    echo "- dvae on $CUB, $([ "$DRY" = 1 ] && echo "1 epoch" || echo "150 epochs"), with per-epoch checkpoints: $DVAE_S s wall (goal < 60 s on one H100), of which epochs: $STAGES; $H"
    echo "- whole check: $(secs "$T0") s"
    echo
    echo "Command: \`bash benchmarks/gpu_check.sh$([ "$DRY" = 1 ] && echo " --cpu-dry-run")\`."
} >"$REPORT"
cat "$REPORT"
STEP="done"
echo
echo "gpu_check: OK (reports in $RESULTS, files in $WORK)"
