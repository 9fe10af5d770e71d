"""`zsl predict` reads .mat features with the toolkit's checked reader: a damaged file is a
DataError naming it, never a crash or a huge allocation."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io
from zsl_onnx.features import read_features

from zsl_toolkit.errors import DataError


@pytest.fixture
def mat_bytes(tmp_path) -> bytes:
    path = tmp_path / "good.mat"
    scipy.io.savemat(path, {"features": np.arange(24.0).reshape(4, 6)}, do_compression=True)
    return path.read_bytes()


def test_good_file_reads_as_columns_per_sample(tmp_path, mat_bytes):
    path = tmp_path / "f.mat"
    path.write_bytes(mat_bytes)
    x = read_features(path, 4)  # 4 x 6 stored one column per sample: 6 samples of 4-d
    assert x.shape == (6, 4) and x[1, 0] == 1.0 and x[0, 1] == 6.0


@pytest.mark.parametrize("cut", [130, 140, 160, 200])
def test_truncated_file_is_a_data_error(tmp_path, mat_bytes, cut):
    path = tmp_path / "t.mat"
    path.write_bytes(mat_bytes[:cut])
    with pytest.raises(DataError, match=str(path)):
        read_features(path, 4)


def test_huge_declared_size_is_refused_before_allocating(tmp_path, mat_bytes):
    path = tmp_path / "h.mat"
    data = bytearray(mat_bytes)
    data[132:136] = (2**31 - 1).to_bytes(4, "little")  # the first element's byte count
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match=str(path)):
        read_features(path, 4)
