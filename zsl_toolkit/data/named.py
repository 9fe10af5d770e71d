"""The xlsa17 benchmarks by name: ``<data root>/<NAME>/res101.mat`` + ``att_splits.mat``.

Xian, Lampert, Schiele and Akata, "Zero-Shot Learning - A Comprehensive Evaluation of the
Good, the Bad and the Ugly", TPAMI 2018 ("proposed splits").
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from zsl_toolkit.data.base import Dataset
from zsl_toolkit.data.container import ZSLData
from zsl_toolkit.data.resolve import DATA_ROOT_ENV
from zsl_toolkit.errors import DataError


class XLSA17Dataset(Dataset):
    """A benchmark folder under the data root; ``semantic`` picks the class-embedding file."""

    folder: ClassVar[str]
    semantic: str = "att_splits.mat"

    def load(self, data_root: Path | None = None) -> ZSLData:
        if data_root is None:
            raise DataError(
                f"dataset '{self.folder.lower()}' needs a data root holding "
                f"{self.folder}/res101.mat and {self.folder}/{self.semantic} from the xlsa17 "
                f"download: pass --data-root DIR or set {DATA_ROOT_ENV}"
            )
        from zsl_toolkit.data.xlsa17 import load_xlsa17

        data = load_xlsa17(Path(data_root) / self.folder, semantic=self.semantic)
        data.name = self.folder.lower()
        return data


class CUB(XLSA17Dataset):
    """Caltech-UCSD Birds 200-2011: 150 seen / 50 unseen, 312 attributes."""

    description = "CUB-200-2011 (xlsa17): 150/50 classes, 312-d attributes"
    folder = "CUB"


class AWA1(XLSA17Dataset):
    """Animals with Attributes 1: 40 seen / 10 unseen, 85 attributes."""

    description = "AwA1 (xlsa17): 40/10 classes, 85-d attributes"
    folder = "AWA1"


class AWA2(XLSA17Dataset):
    """Animals with Attributes 2: 40 seen / 10 unseen, 85 attributes."""

    description = "AwA2 (xlsa17): 40/10 classes, 85-d attributes"
    folder = "AWA2"


class SUN(XLSA17Dataset):
    """SUN attributes: 645 seen / 72 unseen, 102 attributes."""

    description = "SUN (xlsa17): 645/72 classes, 102-d attributes"
    folder = "SUN"


class APY(XLSA17Dataset):
    """aPascal-aYahoo: 20 seen / 12 unseen, 64 attributes."""

    description = "aPY (xlsa17): 20/12 classes, 64-d attributes"
    folder = "APY"


class FLO(XLSA17Dataset):
    """Oxford Flowers 102: 82 seen / 20 unseen."""

    description = "Oxford Flowers (xlsa17): 82/20 classes"
    folder = "FLO"
