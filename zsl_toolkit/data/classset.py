"""A dataset with its class set edited: classes removed (with their images) or added (an
embedding row and no images).

This is how a run whose model's class set was edited (``zsl add-class`` /
``zsl remove-class``) reads its data back: the dataset it trained on, with the run's
cumulative edit applied, so its class order is the model's (kept classes in their original
order, then added classes in the order they were added). An added class has no test images,
so it competes in every prediction but has no accuracy of its own.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from zsl_toolkit.data.container import ZSLData
from zsl_toolkit.errors import DataError


def edit_class_set(
    data: ZSLData,
    removed: Sequence[str] = (),
    added: Sequence[tuple[str, Sequence[float]]] = (),
) -> ZSLData:
    """``data`` without the classes named in ``removed`` and with ``added`` ((name, embedding)
    pairs) appended; rows keep their order, labels are renumbered."""
    if not removed and not added:
        return data
    where = data.source or data.name
    index = {name: i for i, name in enumerate(data.class_names)}
    unknown = [n for n in removed if n not in index]
    if unknown:
        raise DataError(f"{where}: no class named {', '.join(map(repr, unknown))} to remove")
    gone = np.array(sorted(index[n] for n in removed), dtype=np.int64)
    keep = np.setdiff1d(np.arange(data.n_classes), gone)
    class_map = np.full(data.n_classes, -1, dtype=np.int64)
    class_map[keep] = np.arange(keep.size)
    rows = np.flatnonzero(class_map[data.labels] >= 0)
    row_map = np.full(data.labels.size, -1, dtype=np.int64)
    row_map[rows] = np.arange(rows.size)
    splits = {}
    for name, idx in data.splits.items():
        kept = row_map[idx]
        kept = kept[kept >= 0]
        if kept.size:
            splits[name] = kept
    names = [data.class_names[i] for i in keep] + [str(n) for n, _ in added]
    embeddings = data.class_embeddings[keep]
    if added:
        vectors = np.asarray([list(v) for _, v in added], dtype=np.float32)
        embeddings = np.concatenate([embeddings, vectors.reshape(len(added), -1)])
    return ZSLData(
        features=data.features[rows],
        labels=class_map[data.labels[rows]],
        class_embeddings=embeddings,
        class_names=names,
        splits=splits,
        name=data.name,
        source=data.source,
        extra=dict(data.extra),
    )
