#!/usr/bin/env bash
# GPU smoke check: train on CUDA, export to ONNX, predict with onnxruntime's CUDA provider.
#
#   bash benchmarks/gpu_check.sh            # from anywhere; VENV=... to pick the environment
#
# Needs an NVIDIA GPU, torch with CUDA and onnxruntime-gpu. Uses $VENV (default: the repo's
# .venv) when it exists; otherwise creates it with --system-site-packages and installs the
# repository's distributions into it offline (--no-index --no-deps), so it never downloads.
# Trains dvae on `synthetic` (falls back to cada-vae, then eszsl, when not installed), and
# exits non-zero at the first failing step, CUDA provider unusable included. Expected to take
# a few minutes at most on one H100 (training dominates); EPOCHS=N shortens training.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$REPO/.venv}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/zsl-gpu-check.XXXXXX")"
STEP="start"
cd "$WORK"  # so nothing is imported from the current folder instead of the environment
trap 'status=$?; if [ $status -ne 0 ]; then echo "gpu_check: FAILED at step: $STEP (exit $status); files in $WORK" >&2; fi' EXIT

step() { STEP="$1"; echo; echo "== $1"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }

step "environment"
if [ ! -x "$VENV/bin/python" ]; then
    echo "creating $VENV (system site packages, offline install of the repo's distributions)"
    python3 -m venv --system-site-packages "$VENV"
    # When python3 itself runs in a virtual environment, --system-site-packages reaches only
    # the base interpreter's packages; a .pth file adds that environment's (torch, ...).
    parent="$(python3 -c 'import sys, sysconfig; print(sysconfig.get_paths()["purelib"] if sys.prefix != sys.base_prefix else "")')"
    if [ -n "$parent" ]; then
        echo "import site; site.addsitedir('$parent')" \
            >"$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/zsl_parent_env.pth"
    fi
fi
PY="$VENV/bin/python"
zsl() { "$PY" -m zsl_toolkit "$@"; }  # works when the console script lives in a parent env
dists=("$REPO")
for d in plugins/dvae exporters/onnx; do
    if [ -f "$REPO/$d/pyproject.toml" ]; then dists+=("$REPO/$d"); fi
done
for d in "${dists[@]}"; do
    name="$(sed -n 's/^name = "\(.*\)"/\1/p' "$d/pyproject.toml" | head -n 1)"
    if ! "$PY" -m pip show -q "$name" >/dev/null 2>&1; then
        echo "installing $name from $d (offline)"
        "$PY" -m pip install -q --no-index --no-deps --no-build-isolation -e "$d"
    fi
done
command -v nvidia-smi >/dev/null && nvidia-smi -L
"$PY" - <<'EOF'
import onnxruntime as ort
import torch

print(f"torch {torch.__version__}, CUDA available: {torch.cuda.is_available()}", end="")
print(f" ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else "")
print(f"onnxruntime {ort.__version__}, available providers: {ort.get_available_providers()}")
if not torch.cuda.is_available():
    raise SystemExit("torch sees no CUDA device")
EOF

step "method"
methods="$(zsl list | awk '/^methods:/ {m = 1; next} /^[a-z]+:/ {m = 0} m {print $1}')"
METHOD=""
for candidate in dvae cada-vae eszsl; do
    if grep -qx "$candidate" <<<"$methods"; then METHOD="$candidate"; break; fi
done
[ -n "$METHOD" ] || { echo "none of dvae, cada-vae, eszsl is installed" >&2; exit 1; }
[ "$METHOD" = dvae ] || echo "dvae is not installed: falling back to $METHOD"
echo "method: $METHOD"

step "train $METHOD on synthetic (--device cuda)"
RUN="$WORK/run"
epochs=()
[ -n "${EPOCHS:-}" ] && epochs=(--epochs "$EPOCHS")
t0="$(now)"
zsl train --method "$METHOD" --dataset synthetic --device cuda --quiet --out "$RUN" \
    ${epochs[@]+"${epochs[@]}"}
echo "train: $(elapsed "$t0")"
grep -q '"device": "cuda' "$RUN/run.json" || { echo "run.json does not record a CUDA device" >&2; exit 1; }

step "export to ONNX"
MODEL="$WORK/model.onnx"
t0="$(now)"
zsl export "$RUN" --format onnx --output "$MODEL"
echo "export: $(elapsed "$t0")"

step "zsl predict --dataset synthetic --provider cuda"
t0="$(now)"
zsl predict "$MODEL" --dataset synthetic --provider cuda --json >"$WORK/onnx_metrics.json"
echo "predict --dataset: $(elapsed "$t0")"
zsl evaluate "$RUN" --json >"$WORK/torch_metrics.json"

step "providers used and timings"
"$PY" - "$MODEL" "$WORK" <<'EOF'
import json
import sys
import time

import numpy as np
import onnxruntime as ort

from zsl_onnx import OnnxPredictor

model, work = sys.argv[1], sys.argv[2]
onnx_m = json.load(open(f"{work}/onnx_metrics.json"))["gzsl"]
torch_m = json.load(open(f"{work}/torch_metrics.json"))["gzsl"]
print("U/S/H  onnxruntime CUDA: " + " ".join(f"{100 * onnx_m[k]:.2f}" for k in "USH"))
print("U/S/H  zsl evaluate    : " + " ".join(f"{100 * torch_m[k]:.2f}" for k in "USH"))
# CUDA kernels may round differently from PyTorch on CPU (TF32 included), which can flip
# near-tied argmaxes; more than a point of difference means something is wrong.
if any(abs(onnx_m[k] - torch_m[k]) > 0.01 for k in "USH"):
    raise SystemExit("ONNX-on-CUDA metrics differ from zsl evaluate by more than 1 point")

print(f"onnxruntime.get_available_providers(): {ort.get_available_providers()}")
predictors = {p: OnnxPredictor(model, p, notice=None) for p in ("cuda", "cpu")}
for name, predictor in predictors.items():
    print(f"--provider {name}: session providers {predictor.providers}")
if predictors["cuda"].providers[0] != "CUDAExecutionProvider":
    raise SystemExit("the cuda session does not run on CUDAExecutionProvider")
x = np.abs(np.random.default_rng(0).standard_normal((65536, predictors["cpu"].feature_dim)))
x = x.astype(np.float32)
results = {}
for name, predictor in predictors.items():
    predictor.predict(x[:4096])  # warm-up (CUDA context, kernels, arena)
    start = time.perf_counter()
    results[name] = predictor.predict(x, batch_size=8192)
    seconds = time.perf_counter() - start
    print(f"{name}: {len(x)} rows in {seconds:.3f} s ({len(x) / seconds:,.0f} rows/s)")
agree = (results["cuda"][1] == results["cpu"][1]).mean()
diff = np.abs(results["cuda"][0] - results["cpu"][0]).max()
print(f"cuda vs cpu: argmax agreement {100 * agree:.2f}%, max |score diff| {diff:.2e}")
if agree < 0.999:
    raise SystemExit("CUDA and CPU predictions disagree on more than 0.1% of rows")
EOF

STEP="done"
echo
echo "gpu_check: OK ($METHOD, files in $WORK)"
