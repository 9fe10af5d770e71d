"""The dynamic batcher: concurrent requests share runs, each gets its own rows back."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
from zsl_serve.batcher import Batcher


def test_concurrent_requests_share_runs_and_get_their_rows():
    sizes: list[int] = []
    gate = threading.Event()

    def runner(batch: np.ndarray) -> tuple[np.ndarray, ...]:
        gate.wait(5)  # the first run blocks until every request is queued
        return batch * 2, batch.sum(axis=1)

    async def main() -> list[tuple[np.ndarray, ...]]:
        batcher = Batcher(runner, max_rows=64, max_wait=0.05, on_batch=sizes.append)
        inputs = [np.full((1 + i % 3, 2), float(i)) for i in range(30)]
        tasks = [asyncio.create_task(batcher.submit(x)) for x in inputs]
        await asyncio.sleep(0.05)
        gate.set()
        out = await asyncio.gather(*tasks)
        await batcher.close()
        for x, (doubled, summed) in zip(inputs, out, strict=True):
            assert np.array_equal(doubled, x * 2) and np.array_equal(summed, x.sum(axis=1))
        return out

    asyncio.run(main())
    assert sum(sizes) == sum(1 + i % 3 for i in range(30))
    assert len(sizes) < 30 and max(sizes) > 3
    assert max(sizes) <= 64 + 2  # a batch closes once it holds max_rows


def test_a_failed_run_fails_only_its_requests_and_close_drains():
    def runner(batch: np.ndarray) -> tuple[np.ndarray, ...]:
        if (batch < 0).any():
            raise ValueError("negative")
        return (batch,)

    async def main() -> None:
        batcher = Batcher(runner, max_rows=1, max_wait=0.0)
        bad = asyncio.create_task(batcher.submit(np.array([[-1.0]])))
        good = asyncio.create_task(batcher.submit(np.array([[1.0]])))
        await asyncio.sleep(0)
        await batcher.close()  # queued jobs still run
        assert (await good)[0][0, 0] == 1.0
        try:
            await bad
        except ValueError as exc:
            assert "negative" in str(exc)
        else:
            raise AssertionError("the failing request got no error")
        later = await batcher.submit(np.array([[3.0]]))  # after close: runs on its own
        assert later[0][0, 0] == 3.0

    asyncio.run(main())
