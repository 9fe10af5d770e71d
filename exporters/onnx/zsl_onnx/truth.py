"""``zsl predict MODEL TREE --truth folders``: a labelled image tree, measured.

The true class of an image is the name of the sub-folder of TREE it lies in (the first
folder below TREE; a file given by itself: its parent folder's name). The report holds each
class's accuracy (an ``unknown`` answer counts as wrong), U/S/H when the tree holds seen and
unseen classes (per-class mean accuracies, as the ``gzsl`` evaluator defines them), the
confusion matrix as CSV and PNG, and an HTML page listing every mistake with a thumbnail,
so a person sees what the model confuses, not only how often.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zsl_onnx.probabilities import UNKNOWN, UNKNOWN_ID, answer_name
from zsl_toolkit.errors import ConfigError, DataError
from zsl_toolkit.evaluation.metrics import harmonic_mean
from zsl_toolkit.io import atomic_write

THUMBNAIL = 96
"""Longest side, in pixels, of a mistake's thumbnail in the HTML page."""
REPORT_FILES = ("metrics.json", "confusion.csv", "confusion.png", "mistakes.html")


def truth_of(inputs: list[str], files: list[str]) -> list[str]:
    """The true class of each of ``files`` from the folder it lies in (see module doc)."""
    roots = [Path(i).resolve() for i in inputs if Path(i).is_dir()]
    out = []
    for f in files:
        path = Path(f).resolve()
        root = next((r for r in roots if path.is_relative_to(r)), None)
        if root is None:
            out.append(path.parent.name)
            continue
        parts = path.relative_to(root).parts
        if len(parts) < 2:
            raise DataError(
                f"{f}: lies directly in {root}, not in a class folder (--truth folders takes "
                f"the class from the sub-folder name: TREE/<class>/<image>)"
            )
        out.append(parts[0])
    return out


def check_truth_classes(truths: list[str], class_names: list[str]) -> None:
    """Every class folder must name a class of the model (checked before predicting)."""
    index = set(class_names)
    unknown = sorted({t for t in truths if t not in index})
    if unknown:
        folded = {n.casefold(): n for n in class_names}
        hint = folded.get(unknown[0].casefold())
        more = " ..." if len(class_names) > 10 else ""
        raise DataError(
            f"class folder(s) {', '.join(unknown[:5])} name no class of the model"
            + (f" (did you mean '{hint}'?)" if hint else "")
            + f"; its classes: {', '.join(class_names[:10])}{more}"
        )


def check_report_dir(report: Path) -> None:
    """The report folder must be new or empty, in an existing folder."""
    if not report.parent.is_dir():
        raise ConfigError(f"--report {report}: folder {report.parent} does not exist")
    if report.exists() and (not report.is_dir() or any(report.iterdir())):
        raise ConfigError(f"--report {report}: exists and is not an empty folder")


@dataclass
class TruthReport:
    """What ``--truth folders`` measured and where its files are."""

    per_class: dict[str, float]
    splits: dict[str, str]
    metrics: dict[str, Any]
    folder: Path

    def lines(self) -> list[str]:
        m = self.metrics
        head = f"{m['images']} images of {len(self.per_class)} classes: accuracy {100 * m['accuracy']:.2f}%"
        out = [head]
        if "H" in m:
            out.append(f"U={100 * m['U']:.2f}%  S={100 * m['S']:.2f}%  H={100 * m['H']:.2f}%")
        elif "U" in m or "S" in m:
            key = "U" if "U" in m else "S"
            out.append(f"{key}={100 * m[key]:.2f}% (the tree holds only {self.splits_word()})")
        width = max(12, *(len(n) for n in self.per_class))
        out.append(f"{'class':<{width}}  {'split':<6}  accuracy")
        order = sorted(
            self.per_class, key=lambda n: (self.splits[n] != "seen", self.per_class[n], n)
        )
        for name in order:
            out.append(
                f"{name:<{width}}  {self.splits[name]:<6}  {100 * self.per_class[name]:7.2f}%"
            )
        out.append(f"report: {', '.join(str(self.folder / f) for f in self.written())}")
        return out

    def splits_word(self) -> str:
        return "seen classes" if "S" in self.metrics else "unseen classes"

    def written(self) -> list[str]:
        return [f for f in REPORT_FILES if (self.folder / f).is_file()]


def measure(
    truths: list[str],
    answers: np.ndarray,
    probabilities: np.ndarray,
    files: list[str],
    class_names: list[str],
    seen_classes: list[int],
    folder: Path,
) -> TruthReport:
    """Compare ``answers`` (class ids, -1 unknown) with ``truths`` (class names); write the
    report files into ``folder`` (created)."""
    check_truth_classes(truths, class_names)
    index = {n: i for i, n in enumerate(class_names)}
    true_ids = np.asarray([index[t] for t in truths], dtype=np.int64)
    answers = np.asarray(answers, dtype=np.int64)
    seen = set(seen_classes)
    present = [c for c in range(len(class_names)) if (true_ids == c).any()]
    per_class = {class_names[c]: float((answers[true_ids == c] == c).mean()) for c in present}
    splits = {class_names[c]: ("seen" if c in seen else "unseen") for c in present}
    metrics: dict[str, Any] = {
        "images": len(files),
        "accuracy": float((answers == true_ids).mean()),
        "per_class": per_class,
    }
    accs_s = [per_class[class_names[c]] for c in present if c in seen]
    accs_u = [per_class[class_names[c]] for c in present if c not in seen]
    if accs_s:
        metrics["S"] = float(np.mean(accs_s))
    if accs_u:
        metrics["U"] = float(np.mean(accs_u))
    if accs_s and accs_u:
        metrics["H"] = harmonic_mean(metrics["U"], metrics["S"])
    folder.mkdir(exist_ok=True)
    columns = sorted(set(present) | {int(a) for a in answers if a != UNKNOWN_ID})
    if (answers == UNKNOWN_ID).any():
        columns.append(UNKNOWN_ID)
    matrix = np.zeros((len(present), len(columns)), dtype=np.int64)
    col = {c: j for j, c in enumerate(columns)}
    row = {c: i for i, c in enumerate(present)}
    for t, a in zip(true_ids, answers, strict=True):
        matrix[row[int(t)], col[int(a)]] += 1
    col_names = [answer_name(c, class_names) for c in columns]
    row_names = [class_names[c] for c in present]
    _write_json(folder / "metrics.json", metrics)
    _write_confusion_csv(folder / "confusion.csv", row_names, col_names, matrix)
    _write_confusion_png(folder / "confusion.png", row_names, col_names, matrix)
    mistakes = [
        (
            files[i],
            truths[i],
            answer_name(int(answers[i]), class_names),
            _p(probabilities, i, answers[i]),
        )
        for i in np.flatnonzero(answers != true_ids)
    ]
    _write_mistakes(folder / "mistakes.html", mistakes, len(files))
    return TruthReport(per_class, splits, metrics, folder)


def _p(probabilities: np.ndarray, i: int, answer: int) -> float:
    return float(probabilities[i].max() if answer == UNKNOWN_ID else probabilities[i, answer])


def _write_json(path: Path, doc: dict[str, Any]) -> None:
    data = (json.dumps(doc, indent=1) + "\n").encode()
    atomic_write(path, lambda fh: fh.write(data))


def _write_confusion_csv(path: Path, rows: list[str], cols: list[str], m: np.ndarray) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["true \\ predicted", *cols])
    for name, counts in zip(rows, m.tolist(), strict=True):
        writer.writerow([name, *counts])
    data = buf.getvalue().encode()
    atomic_write(path, lambda fh: fh.write(data))


def _write_confusion_png(path: Path, rows: list[str], cols: list[str], m: np.ndarray) -> None:
    """Row-normalised heat map (each true class's share of answers), counts printed when
    the matrix is small enough to read them. Needs matplotlib (the toolkit's plot extra)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    share = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    size = (max(4.0, 0.35 * len(cols) + 2), max(3.0, 0.35 * len(rows) + 1.5))
    fig, ax = plt.subplots(figsize=size)
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(cols)), cols, rotation=90, fontsize=7)
    ax.set_yticks(range(len(rows)), rows, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true (folder)")
    if m.size <= 900:
        for i, j in zip(*np.nonzero(m), strict=True):
            colour = "white" if share[i, j] > 0.5 else "black"
            ax.text(j, i, str(m[i, j]), ha="center", va="center", fontsize=6, color=colour)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120)
    plt.close(fig)
    data = buf.getvalue()
    atomic_write(path, lambda fh: fh.write(data))


def _thumbnail(path: str) -> str:
    from PIL import Image

    try:
        with Image.open(path) as im:
            im = im.convert("RGB")
            im.thumbnail((THUMBNAIL, THUMBNAIL))
            buf = io.BytesIO()
            im.save(buf, format="PNG")
    except OSError:
        return ""
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _write_mistakes(path: Path, mistakes: list[tuple[str, str, str, float]], total: int) -> None:
    """One self-contained page (thumbnails embedded), sorted by true class then file."""
    rows = []
    for file, truth, answer, p in sorted(mistakes, key=lambda m: (m[1], m[0])):
        src = _thumbnail(file)
        img = f'<img src="{src}" alt="">' if src else "(unreadable)"
        rows.append(
            f"<tr><td>{img}</td><td>{html.escape(truth)}</td><td>{html.escape(answer)}</td>"
            f"<td>{p:.3f}</td><td>{html.escape(file)}</td></tr>"
        )
    title = f"{len(mistakes)} mistakes of {total} images"
    page = (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{title}</title><style>body{{font-family:sans-serif}}"
        "td{padding:4px;border-bottom:1px solid #ddd;vertical-align:middle}</style></head>"
        f"<body><h1>{title}</h1><table><tr><th>image</th><th>true</th><th>answered</th>"
        f"<th>probability</th><th>file</th></tr>\n" + "\n".join(rows) + "\n</table></body></html>\n"
    )
    data = page.encode()
    atomic_write(path, lambda fh: fh.write(data))


__all__ = [
    "UNKNOWN",
    "TruthReport",
    "check_report_dir",
    "check_truth_classes",
    "measure",
    "truth_of",
]
