"""The plugin's tests train tiny networks: one torch thread is faster for them than several,
and much faster on a busy machine, where threads of one operation wait for each other."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
