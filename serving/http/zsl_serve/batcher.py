"""Dynamic batching: concurrent requests' rows share one onnxruntime run.

A request submits its rows and awaits a future. One worker task takes the first waiting
request and every request already queued behind it, up to ``max_rows`` rows, runs the graph
once in a worker thread (the event loop stays free to accept and decode the next requests)
and hands each request its slice; requests arriving meanwhile form the next batch. When the
last batch served several requests (the server is under concurrent load), the worker also
waits up to ``max_wait`` seconds for more before running, so batches fill; a lone request
(the last batch held one) never waits, so batching costs nothing at concurrency 1.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

Runner = Callable[[np.ndarray], tuple[np.ndarray, ...]]


@dataclass
class _Job:
    rows: np.ndarray
    future: asyncio.Future


class Batcher:
    """Collects rows from concurrent callers into batches for ``runner``.

    ``on_batch(rows)`` is called with each batch's size (for metrics)."""

    def __init__(
        self,
        runner: Runner,
        *,
        max_rows: int = 256,
        max_wait: float = 0.002,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self.runner = runner
        self.max_rows = max_rows
        self.max_wait = max_wait
        self.on_batch = on_batch
        self._queue: asyncio.Queue[_Job | None] = asyncio.Queue()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zsl-serve-run")
        self._task: asyncio.Task | None = None
        self._closed = False
        self._last_jobs = 0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def submit(self, rows: np.ndarray) -> tuple[np.ndarray, ...]:
        """The runner's outputs for ``rows`` (run together with other callers' rows)."""
        if self._closed:  # a request that took this model just before a reload
            return await asyncio.to_thread(self.runner, rows)
        self.start()
        future = asyncio.get_running_loop().create_future()
        await self._queue.put(_Job(rows, future))
        return await future

    async def close(self) -> None:
        """Finish every job already submitted, then stop (no request is dropped: later
        submissions run on their own)."""
        self._closed = True
        if self._task is not None:
            await self._queue.put(None)
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._executor.shutdown(wait=False)

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        stopping = False
        while not stopping:
            job = await self._queue.get()
            if job is None:
                break
            jobs = [job]
            rows = len(job.rows)
            wait = self.max_wait if self._last_jobs > 1 else 0.0
            deadline = loop.time() + wait
            while rows < self.max_rows:
                try:
                    nxt = self._queue.get_nowait()
                except asyncio.QueueEmpty:
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        break
                    try:
                        nxt = await asyncio.wait_for(self._queue.get(), remaining)
                    except asyncio.TimeoutError:
                        break
                if nxt is None:
                    stopping = True
                    break
                jobs.append(nxt)
                rows += len(nxt.rows)
            self._last_jobs = len(jobs)
            await self._run(jobs, loop)

    async def _run(self, jobs: list[_Job], loop: Any) -> None:
        batch = jobs[0].rows if len(jobs) == 1 else np.concatenate([j.rows for j in jobs])
        if self.on_batch is not None:
            self.on_batch(len(batch))
        try:
            outputs = await loop.run_in_executor(self._executor, self.runner, batch)
        except Exception as exc:  # noqa: BLE001 - every waiting request gets the failure
            for j in jobs:
                if not j.future.done():
                    j.future.set_exception(exc)
            return
        start = 0
        for j in jobs:
            end = start + len(j.rows)
            if not j.future.done():
                j.future.set_result(tuple(o[start:end] for o in outputs))
            start = end
