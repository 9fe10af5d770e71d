"""A dataset with its class set edited: classes removed (with their images) or added (an
embedding row and no images).

This is how a run whose model's class set was edited (``zsl add-class`` /
``zsl remove-class``) reads its data back: the dataset it trained on, with the run's
cumulative edit applied, so its class order is the model's (kept classes in their original
order, then added classes in the order they were added). An added class has no test images,
so it competes in every prediction but has no accuracy of its own, unless it is named like a
class of the dataset that the edit removed: then it is that class come back, and its test
images (``test_seen`` and ``test_unseen`` alike, since an added class is unseen) are
``test_unseen`` images of the added class, so a model whose scores did not change is
measured as before. Its training images stay out: the model never trained on them.
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
    # Removed dataset classes added back under their own name: test rows only, as unseen.
    revived = np.zeros(data.n_classes, dtype=bool)
    for k, (name, _) in enumerate(added):
        old = index.get(str(name))
        if old is not None and class_map[old] < 0:
            class_map[old] = keep.size + k
            revived[old] = True
    test_rows = np.zeros(data.labels.size, dtype=bool)
    for name in ("test_seen", "test_unseen"):
        test_rows[data.splits.get(name, np.zeros(0, np.int64))] = True
    is_revived = revived[data.labels]
    moved = np.zeros(0, dtype=np.int64)  # a revived class's test_seen rows, now unseen
    if "test_seen" in data.splits:
        moved = data.splits["test_seen"][is_revived[data.splits["test_seen"]]]
    rows = np.flatnonzero((class_map[data.labels] >= 0) & (~is_revived | test_rows))
    row_map = np.full(data.labels.size, -1, dtype=np.int64)
    row_map[rows] = np.arange(rows.size)
    splits = {}
    for name, idx in data.splits.items():
        if name == "test_unseen":
            idx = np.concatenate([idx, moved])
        elif is_revived.any():
            idx = idx[~is_revived[idx]]
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
