"""Child process of the MAT-file fuzz test (tests/test_mat5.py): mutates valid v5 files and
loads each mutant, printing one outcome line per case.

Run by the test in a subprocess, so that a crash (a signal) or a hang of the reader shows up
as the child's exit status or a timeout instead of taking down the test run.

Usage: python mat5_fuzz.py FOLDER [FOLDER ...] --cases N --seed S --work DIR
Each FOLDER holds a valid res101.mat + att_splits.mat pair. Output lines:
``<case> ZSLData|DataError <how>``, or ``<case> OTHER <how> <exception>`` and exit 1 for
any other exception, or ``<case> HANG <how>`` and exit 3 when one case runs over 10 s.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import struct
import sys
import zlib
from pathlib import Path

import numpy as np

from zsl_toolkit.data.container import ZSLData
from zsl_toolkit.data.mat5 import Mat5File
from zsl_toolkit.data.xlsa17 import load_xlsa17
from zsl_toolkit.errors import DataError

CASE_SECONDS = 10
INTERESTING = [0, 1, 4, 7, 8, 9, 14, 15, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]


def _elements(raw: bytes) -> list[tuple[int, int, int]]:
    """(offset, type, byte count) of the top-level elements of a valid little-endian file."""
    out, pos = [], 128
    while pos + 8 <= len(raw):
        mdtype, nbytes = struct.unpack_from("<II", raw, pos)
        out.append((pos, mdtype, nbytes))
        pos += 8 + nbytes
    return out


def _flip(raw: bytearray, rng: np.random.Generator) -> str:
    for _ in range(int(rng.integers(1, 9))):
        raw[int(rng.integers(len(raw)))] = int(rng.integers(256))
    return "flip"


def _word(raw: bytearray, rng: np.random.Generator, start: int = 0) -> str:
    """Overwrite one aligned uint32 (tags, dims, sizes live there) with an edge value."""
    pos = start + 4 * int(rng.integers((len(raw) - start) // 4))
    value = INTERESTING[int(rng.integers(len(INTERESTING)))]
    if rng.random() < 0.3:
        value = int(struct.unpack_from("<I", raw, pos)[0]) + int(rng.integers(-9, 10))
    raw[pos : pos + 4] = struct.pack("<I", value % (1 << 32))
    return "word"


def _inner(raw: bytearray, rng: np.random.Generator) -> tuple[bytearray, str]:
    """Mutate the decompressed content of one compressed variable, then recompress it."""
    zipped = [e for e in _elements(bytes(raw)) if e[1] == 15]
    if not zipped:
        return raw, "inner-none"
    pos, _, nbytes = zipped[int(rng.integers(len(zipped)))]
    inner = bytearray(zlib.decompress(bytes(raw[pos + 8 : pos + 8 + nbytes])))
    how = _word(inner, rng) if rng.random() < 0.6 else _flip(inner, rng)
    if rng.random() < 0.2:
        inner = inner[: int(rng.integers(len(inner)))]
    payload = zlib.compress(bytes(inner))
    out = raw[:pos] + struct.pack("<II", 15, len(payload)) + payload + raw[pos + 8 + nbytes :]
    return bytearray(out), "inner-" + how


def mutate(raw: bytes, rng: np.random.Generator) -> tuple[bytes, str]:
    data = bytearray(raw)
    pick = rng.random()
    if pick < 0.3:
        how = _flip(data, rng)
    elif pick < 0.6:
        how = _word(data, rng, start=128)
    elif pick < 0.8:
        data, how = _inner(data, rng)
    elif pick < 0.9:
        data, how = data[: int(rng.integers(len(data)))], "truncate"
    else:
        at = int(rng.integers(len(data)))
        data = data[:at] + bytes(rng.integers(0, 256, int(rng.integers(1, 16)), dtype=np.uint8))
        data += bytearray(raw[at:])
        how = "insert"
    return bytes(data), how


def _timeout(signum, frame):
    raise TimeoutError


def run_case(folder: Path) -> str:
    try:
        data = load_xlsa17(folder)
        outcome = "ZSLData" if isinstance(data, ZSLData) else f"OTHER {type(data).__name__}"
    except DataError as exc:
        outcome = "DataError" if str(exc).strip() and "\n" not in str(exc) else "OTHER bad-message"
    for name in ("res101.mat", "att_splits.mat"):  # also every variable, read directly
        try:
            mat = Mat5File(folder / name)
            for key in mat.variables:
                try:
                    mat.read(key)
                except DataError:
                    pass
        except DataError:
            pass
    return outcome


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, required=True)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    signal.signal(signal.SIGALRM, _timeout)
    originals = {
        (f, name): (f / name).read_bytes()
        for f in args.folders
        for name in ("res101.mat", "att_splits.mat")
    }
    keys = list(originals)
    for case in range(args.cases):
        folder, name = keys[case % len(keys)]
        work = args.work / "case"
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(folder, work)
        data, how = mutate(originals[folder, name], rng)
        (work / name).write_bytes(data)
        signal.alarm(CASE_SECONDS)
        try:
            outcome = run_case(work)
        except TimeoutError:
            print(f"{case} HANG {how} {folder.name}/{name}", flush=True)
            shutil.copy(work / name, args.work / f"hang-{case}.mat")
            return 3
        except Exception as exc:  # noqa: BLE001 - the test reports it
            print(f"{case} OTHER {how} {folder.name}/{name} {type(exc).__name__}: {exc!r:.200}")
            shutil.copy(work / name, args.work / f"other-{case}.mat")
            return 1
        finally:
            signal.alarm(0)
        print(f"{case} {outcome} {how}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
