"""The conformance kit over every installed method and dataset plugin."""

from __future__ import annotations

import pytest
from tiny_params import tiny

from zsl_toolkit.data.named import XLSA17Dataset
from zsl_toolkit.data.registry import dataset_registry
from zsl_toolkit.data.xlsa17_synth import RealAttributeDataset
from zsl_toolkit.errors import DataError
from zsl_toolkit.methods.registry import method_registry
from zsl_toolkit.testing import check_dataset, check_method


@pytest.mark.parametrize("name", method_registry().names())
def test_method_conformance(name, tmp_path):
    check_method(name, tmp_path, params=tiny(name), epochs=2)


@pytest.mark.parametrize("name", dataset_registry().names())
def test_dataset_conformance(name):
    cls = dataset_registry().load(name)
    if issubclass(cls, XLSA17Dataset):
        with pytest.raises(DataError, match="data root"):
            cls().load(None)
        return
    if issubclass(cls, RealAttributeDataset):
        with pytest.raises(DataError, match="data root"):
            cls().load(None)
        if name != "sun-synth":
            pytest.skip("2048-d preset: one (sun-synth) is enough here; tests/test_xlsa17_synth.py")
        from xlsa17_files import SHARED

        if not SHARED.is_dir():
            pytest.skip(f"real data folder {SHARED} not present")
        assert check_dataset(name, SHARED).name == name
        return
    if name == "synthetic-cub":
        pytest.skip("2048-d preset: covered by benchmarks, too slow to load twice here")
    data = check_dataset(name)
    assert data.name == name
