"""One served model: the exported graph (through :class:`zsl_onnx.OnnxPredictor`, one shared
onnxruntime session) plus the class edits kept beside it.

Scores of the exported classes come from the graph. An added class is scored as the
graph's ``embedding`` output (features projected into the class-embedding space, see
:mod:`zsl_onnx.class_space`) times its embedding row, which is exactly how an append method
scores every class; a removed class's column is dropped. Probabilities are the softmax of
the served scores.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zsl_serve.classes import AddedClass, ClassEdits, ClassFile, file_sha256
from zsl_toolkit.errors import DataError

EMBEDDING = "embedding"  # zsl_onnx.class_space.EMBEDDING, without importing torch


class NotEditable(Exception):
    """The model's classes cannot be edited live (the message says what to do instead)."""


@dataclass(frozen=True)
class ClassTable:
    """The served class set: names in score order, each one's kind, and how to build the
    score matrix from the graph's outputs."""

    names: tuple[str, ...]
    kinds: tuple[str, ...]  # "seen" | "unseen" | "added"
    keep: np.ndarray  # graph score columns kept, in order
    added: np.ndarray  # [A, d2] embedding rows of added classes
    revision: int


class ServedModel:
    """An exported model and its class edits, ready to score batches.

    ``provider`` and ``threads`` go to :class:`~zsl_onnx.OnnxPredictor`."""

    def __init__(self, path: str | Path, provider: str = "auto", threads: int | None = None):
        from zsl_onnx import OnnxPredictor

        self.path = Path(path)
        self.predictor = OnnxPredictor(self.path, provider, threads=threads)
        meta = self.predictor.metadata
        self.sha256 = file_sha256(self.path)
        self.class_file = ClassFile(self.path, self.sha256)
        self.takes_images = self.predictor.takes_images
        self.edit_mode = meta.get("class_edit_mode", "unknown")
        outputs = {o.name for o in self.predictor.session.get_outputs()}
        self.has_embedding = meta.get("embedding_output") == EMBEDDING and EMBEDDING in outputs
        self.embedding_dim = int(meta["embedding_dim"]) if "embedding_dim" in meta else None
        self.text_encoder = meta.get("text_encoder")
        self.method = meta.get("method", "?")
        self.original = list(self.predictor.class_names)
        seen = set(self.predictor.seen_classes)
        self._original_kinds = [
            "seen" if i in seen else "unseen" for i in range(len(self.original))
        ]
        self._outputs = ["scores", EMBEDDING] if self.has_embedding else ["scores"]
        self.table = self._table(self.class_file.current())

    # ------------------------------------------------------------------ classes
    def refresh(self) -> ClassTable:
        """The class table for the edits on disk (re-built only when they changed)."""
        edits = self.class_file.current()
        if edits.revision != self.table.revision:
            self.table = self._table(edits)
        return self.table

    def adopt(self, edits: ClassEdits) -> ClassTable:
        """Serve ``edits`` (given by a coordinator rather than read from disk)."""
        if edits.revision != self.table.revision:
            self.table = self._table(edits)
        return self.table

    def _table(self, edits: ClassEdits) -> ClassTable:
        removed = set(edits.removed)
        keep = [i for i, n in enumerate(self.original) if n not in removed]
        if edits.added and not self.has_embedding:
            raise DataError(
                f"{self.class_file.path} adds classes but {self.path.name} cannot score them"
            )
        width = self.embedding_dim or 0
        rows = (
            np.array([c.embedding for c in edits.added], np.float32)
            if edits.added
            else np.zeros((0, width), np.float32)
        )
        return ClassTable(
            names=tuple(self.original[i] for i in keep) + tuple(c.name for c in edits.added),
            kinds=tuple(self._original_kinds[i] for i in keep) + ("added",) * len(edits.added),
            keep=np.array(keep, np.int64),
            added=rows,
            revision=edits.revision,
        )

    def check_editable(self) -> None:
        """Raise :class:`NotEditable` with what to do when classes cannot change live."""
        if self.has_embedding:
            return
        if self.edit_mode == "refit":
            raise NotEditable(
                f"method '{self.method}' retrains its classifier to change classes: run "
                f"`zsl add-class` on the run, export it again and POST /reload"
            )
        if self.edit_mode in ("append", "unknown"):
            raise NotEditable(
                f"{self.path.name} was exported without its class-embedding output: export "
                f"the run again with this zsl-onnx and POST /reload"
            )
        raise NotEditable(
            f"method '{self.method}' cannot edit its class set; retrain with the classes instead"
        )

    def add(self, new: AddedClass) -> ClassTable:
        """Add ``new`` and persist it (refused when its name exists)."""
        self.check_editable()
        names = self.original
        self.table = self._table(
            self.class_file.update(lambda e: e.with_added(new, served_names(names, e)))
        )
        return self.table

    def remove(self, name: str) -> ClassTable:
        """Remove class ``name`` (exported or added) and persist it."""
        self.check_editable()
        names = self.original
        self.table = self._table(
            self.class_file.update(lambda e: e.without(name, served_names(names, e)))
        )
        return self.table

    # ------------------------------------------------------------------ inputs
    def features(self, rows: Any) -> np.ndarray:
        """float32 [N, d1] from JSON rows, or a DataError saying what is wrong."""
        return self.predictor.validate(rows)

    def image(self, data: bytes, name: str) -> np.ndarray:
        """uint8 [S, S, 3] of one encoded image, resized/cropped as the model was exported."""
        from PIL import Image
        from zsl_images.preprocess import DECODE_ERRORS

        try:
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                return self.predictor.sizing.apply(image)
        except DECODE_ERRORS:
            raise DataError(f"file '{name}' is not a readable image") from None

    # ------------------------------------------------------------------ scoring
    def run(self, batch: np.ndarray) -> tuple[np.ndarray, ...]:
        """The graph's outputs (scores[, embedding]) for one batch; thread-safe."""
        return tuple(self.predictor.session.run(self._outputs, {self.predictor.input_name: batch}))

    def scores(self, outputs: tuple[np.ndarray, ...], table: ClassTable) -> np.ndarray:
        """Served scores [N, len(table.names)] from the graph's outputs."""
        scores = outputs[0][:, table.keep]
        if len(table.added):
            extra = outputs[1].astype(np.float32) @ table.added.T
            scores = np.concatenate([scores, extra], axis=1)
        return scores


def served_names(original: list[str], edits: ClassEdits) -> list[str]:
    """The class names served for ``edits`` of a model with classes ``original``."""
    removed = set(edits.removed)
    return [n for n in original if n not in removed] + [c.name for c in edits.added]


def top_k(scores: np.ndarray, table: ClassTable, k: int) -> list[dict[str, Any]]:
    """Per row: the predicted class and the ``k`` best with score and probability."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    probs = np.exp(shifted)
    probs /= probs.sum(axis=1, keepdims=True)
    k = min(k, scores.shape[1])
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    out = []
    for i, row in enumerate(order):
        top = [
            {
                "class": table.names[j],
                "kind": table.kinds[j],
                "score": float(scores[i, j]),
                "probability": float(probs[i, j]),
            }
            for j in row
        ]
        out.append({"class": top[0]["class"], "kind": top[0]["kind"], "top": top})
    return out
