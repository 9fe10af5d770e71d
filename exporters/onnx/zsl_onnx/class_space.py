"""The class-embedding space of an exported model, so a deployment can add classes live.

A method whose class edits are ``"append"`` scores a class by a dot product between the
projected features and the class's embedding row (``x W s_c``): a new class is just a new
row. The exported graph therefore gets one more output, ``embedding`` [batch, d2] (the
projected features), and a server scores an added class as ``embedding @ s_new``. The
projection is the method's own scorer with its class-embedding buffer replaced by the
identity matrix, so no method has to implement anything new; the export then checks on real
features that ``embedding @ S.T`` reproduces the graph's scores before the output is kept.
A method that is not linear in its class embeddings fails that check and is exported
without the output (its classes are edited with ``zsl add-class`` and a new export).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
from torch import nn

EMBEDDING = "embedding"
"""Extra output of an append model: features projected into the class-embedding space."""

PROJECTION_TOLERANCE = 1e-4
"""Largest |embedding @ S.T - scores| / max |scores| accepted on the parity features."""


class Projection(nn.Module):
    """Raw features -> the scorer's class-embedding space (scaler, then the scorer whose
    class-embedding rows are the identity)."""

    def __init__(self, scaler: nn.Module, scorer: nn.Module) -> None:
        super().__init__()
        self.scaler = scaler
        self.scorer = scorer

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.scorer(self.scaler(features))


def class_embeddings(method: Any) -> np.ndarray | None:
    """The [C, d2] class-embedding rows an append method scores with, or None."""
    key = _embedding_key(method)
    if key is None:
        return None
    return method.modules().state_dict()[key].detach().cpu().numpy().astype(np.float32)


def projection(method: Any) -> Projection | None:
    """The projection module of an ``"append"`` method, or None for any other method."""
    key = _embedding_key(method)
    if key is None:
        return None
    clone = copy.deepcopy(method)
    owner_path, _, buffer = key.rpartition(".")
    owner = clone.modules().get_submodule(owner_path)
    old = getattr(owner, buffer)
    dim = old.shape[1]
    owner._buffers[buffer] = torch.eye(dim, dtype=old.dtype, device=old.device)
    return Projection(clone.scaler_, clone.scorer()).cpu().eval()


def _embedding_key(method: Any) -> str | None:
    if getattr(type(method), "class_edit", None) != "append":
        return None
    rows = [k for k, kind in method.class_indexed().items() if kind == "all"]
    return rows[0] if len(rows) == 1 else None


def checked_projection(method: Any, features: np.ndarray) -> Projection | None:
    """:func:`projection`, kept only when it reproduces the method's scores on ``features``
    (raw [N, d1]) within :data:`PROJECTION_TOLERANCE`."""
    module = projection(method)
    rows = class_embeddings(method)
    if module is None or rows is None or len(features) == 0:
        return None
    x = torch.from_numpy(np.ascontiguousarray(features[:256], dtype=np.float32))
    with torch.no_grad():
        embedding = module(x).numpy()
    scores = method.predict_scores(x.numpy())
    error = projection_error(embedding, scores, rows, seen_offset(method))
    return module if error <= PROJECTION_TOLERANCE else None


def projection_error(
    embedding: np.ndarray, scores: np.ndarray, rows: np.ndarray, offset: np.ndarray | None
) -> float:
    """max |embedding @ rows.T - offset - scores| / max |scores|."""
    rebuilt = embedding.astype(np.float64) @ rows.T.astype(np.float64)
    if offset is not None:
        rebuilt = rebuilt - offset
    scale = max(float(np.abs(scores).max()), 1e-12)
    return float(np.abs(rebuilt - scores).max() / scale)


def seen_offset(method: Any) -> np.ndarray | None:
    """The calibration offset the inference module subtracts, or None."""
    gamma = getattr(method, "calibration_gamma_", None)
    if gamma is None:
        return None
    offset = np.zeros(method.spec_.n_classes)
    offset[list(method.spec_.seen_classes)] = float(gamma)
    return offset


def metadata(method: Any, with_embedding: bool, extra: dict[str, Any]) -> dict[str, str]:
    """What a server needs to edit classes: the method's edit mode, the embedding width,
    whether the graph has the ``embedding`` output, and the text encoder of text semantics."""
    from zsl_toolkit.editing.descriptions import text_semantics

    meta = {
        "class_edit_mode": str(getattr(type(method), "class_edit", None) or "none"),
        "embedding_dim": str(method.spec_.embedding_dim),
    }
    if with_embedding:
        meta["embedding_output"] = EMBEDDING
    encoder = text_semantics({str(k): str(v) for k, v in extra.items()})
    if encoder is not None:
        meta["text_encoder"] = encoder
    return meta
