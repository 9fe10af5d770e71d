"""Where trials run: local worker processes, or Ray tasks (one machine or a cluster).

An executor offers ``slots`` concurrent trials, ``submit(payload) -> handle`` and
``wait(handles, timeout) -> [(handle, result)]``; the runner keeps at most ``slots`` trials in
flight, so "running" in the progress display means running, not queued. Every executor runs
one trial function, :func:`zsl_toolkit.sweep.worker.run_trial` unless the runner's caller
passes another (a top-level function taking the payload, so worker processes and Ray can
import it), with the same explicit thread count, so a trial gives the same metrics under each.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from zsl_toolkit.errors import ConfigError, MissingDependency
from zsl_toolkit.sweep.worker import run_trial

EXECUTORS = ("local", "ray")
#: What an executor runs for one trial: payload -> result (see the worker).
TrialFunction = Callable[[dict[str, Any]], dict[str, Any]]
_THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def available_cores() -> int:
    """CPU cores this process may use (its affinity mask where the OS reports one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def default_threads(jobs: int) -> int:
    """Threads per trial so ``jobs`` concurrent trials do not oversubscribe the cores."""
    return max(1, available_cores() // max(1, jobs))


@contextmanager
def thread_env(threads: int) -> Iterator[None]:
    """Set the BLAS/OpenMP thread variables that child processes inherit, then restore them.

    ``torch.set_num_threads`` in the worker covers torch; these cover NumPy's BLAS, which
    reads them once at import, i.e. when the worker starts.
    """
    old = {k: os.environ.get(k) for k in _THREAD_ENV}
    os.environ.update({k: str(threads) for k in _THREAD_ENV})
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _crashed(payload: dict[str, Any], exc: BaseException) -> dict[str, Any]:
    return {
        "id": payload["id"],
        "status": "failed",
        "error": f"worker process died ({type(exc).__name__}: {exc})".replace("\n", " "),
        "traceback": None,
    }


class LocalExecutor:
    """``jobs`` spawned worker processes on this machine (spawn: no forked torch state)."""

    name = "local"

    def __init__(self, jobs: int, threads: int, trial: TrialFunction = run_trial) -> None:
        self.slots = jobs
        self.threads = threads
        self.trial = trial
        self._pool: Any = None
        self._env: Any = None
        self._payloads: dict[Any, dict[str, Any]] = {}

    def __enter__(self) -> LocalExecutor:
        self._env = thread_env(self.threads)
        self._env.__enter__()
        self._pool = self._new_pool()
        return self

    def _new_pool(self) -> Any:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        return ProcessPoolExecutor(
            max_workers=self.slots, mp_context=multiprocessing.get_context("spawn")
        )

    def submit(self, payload: dict[str, Any]) -> Any:
        from concurrent.futures.process import BrokenProcessPool

        try:
            future = self._pool.submit(self.trial, payload)
        except BrokenProcessPool:  # a worker died earlier: start a fresh pool
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
            future = self._pool.submit(self.trial, payload)
        self._payloads[future] = payload
        return future

    def wait(self, handles: Sequence[Any], timeout: float) -> list[tuple[Any, dict[str, Any]]]:
        from concurrent.futures import FIRST_COMPLETED
        from concurrent.futures import wait as wait_futures

        done, _ = wait_futures(handles, timeout=timeout, return_when=FIRST_COMPLETED)
        out = []
        for future in done:
            payload = self._payloads.pop(future)
            try:
                out.append((future, future.result()))
            except Exception as exc:  # BrokenProcessPool and the like
                out.append((future, _crashed(payload, exc)))
        return out

    def __exit__(self, *exc: object) -> None:
        interrupted = exc[0] is not None
        if self._pool is not None:
            if interrupted:  # stop running trials now rather than after they finish
                for process in list(getattr(self._pool, "_processes", {}).values()):
                    process.terminate()
            self._pool.shutdown(wait=not interrupted, cancel_futures=True)
        if self._env is not None:
            self._env.__exit__(None, None, None)


class InlineExecutor:
    """One trial at a time in this process, with ``threads`` torch threads (restored after):
    for a single slot, where starting a worker process would only add its start-up time
    (a selection run with one job, or one nested in a sweep's worker)."""

    name = "inline"

    def __init__(self, threads: int, trial: TrialFunction = run_trial) -> None:
        self.slots = 1
        self.threads = threads
        self.trial = trial
        self._payloads: dict[int, dict[str, Any]] = {}

    def __enter__(self) -> InlineExecutor:
        return self

    def submit(self, payload: dict[str, Any]) -> Any:
        handle = len(self._payloads) + 1
        self._payloads[handle] = payload
        return handle

    def wait(self, handles: Sequence[Any], timeout: float) -> list[tuple[Any, dict[str, Any]]]:
        """Runs the first submitted trial to completion (the runner marks it running first)."""
        import torch

        handle = handles[0]
        before = torch.get_num_threads()
        try:
            with thread_env(self.threads):
                return [(handle, self.trial(self._payloads.pop(handle)))]
        finally:
            torch.set_num_threads(before)

    def __exit__(self, *exc: object) -> None:
        self._payloads.clear()


def import_ray() -> Any:
    """Ray, or a one-line error saying how to install it."""
    try:
        import ray
    except ImportError:
        raise MissingDependency(
            "--executor ray needs Ray, which is not installed: pip install 'zsl-toolkit[ray]'"
        ) from None
    return ray


class RayExecutor:
    """Each trial a Ray task reserving ``threads`` CPUs.

    Without ``address`` a local Ray instance with ``jobs * threads`` CPUs is started and shut
    down at the end; with one, the runner connects to that cluster (which must have
    zsl-toolkit installed and see the sweep directory at the same path) and leaves it running.
    """

    name = "ray"

    def __init__(
        self,
        jobs: int | None,
        threads: int,
        address: str | None = None,
        trial: TrialFunction = run_trial,
    ) -> None:
        self.jobs = jobs
        self.trial = trial
        self.slots = jobs or 1
        self.threads = threads
        self.address = address
        self._ray: Any = None
        self._started = False
        self._remote: Any = None
        self._env: Any = None
        self._payloads: dict[Any, dict[str, Any]] = {}

    def __enter__(self) -> RayExecutor:
        import logging

        ray = self._ray = import_ray()
        self._env = thread_env(self.threads)
        self._env.__enter__()
        if not ray.is_initialized():
            try:
                if self.address:
                    ray.init(address=self.address, logging_level=logging.WARNING)
                else:
                    ray.init(
                        num_cpus=(self.jobs or 1) * self.threads,
                        include_dashboard=False,
                        logging_level=logging.WARNING,
                    )
            except ConnectionError as exc:
                self._env.__exit__(None, None, None)
                raise ConfigError(f"--ray-address {self.address}: cannot connect ({exc})") from None
            self._started = True
        if self.jobs is None:
            cpus = int(ray.cluster_resources().get("CPU", 1))
            self.slots = max(1, cpus // self.threads)
        self._remote = ray.remote(num_cpus=self.threads, max_retries=0)(self.trial)
        return self

    def submit(self, payload: dict[str, Any]) -> Any:
        ref = self._remote.remote(payload)
        self._payloads[ref] = payload
        return ref

    def wait(self, handles: Sequence[Any], timeout: float) -> list[tuple[Any, dict[str, Any]]]:
        ray = self._ray
        ready, rest = ray.wait(list(handles), num_returns=1, timeout=timeout)
        if ready and rest:  # collect everything else already finished too
            more, _ = ray.wait(rest, num_returns=len(rest), timeout=0)
            ready += more
        out = []
        for ref in ready:
            payload = self._payloads.pop(ref)
            try:
                out.append((ref, ray.get(ref)))
            except Exception as exc:  # worker crash, node loss
                out.append((ref, _crashed(payload, exc)))
        return out

    def __exit__(self, *exc: object) -> None:
        if self._ray is not None:
            for ref in self._payloads:
                self._ray.cancel(ref, force=True)
            if self._started:
                self._ray.shutdown()
        if self._env is not None:
            self._env.__exit__(None, None, None)


def make_executor(
    kind: str,
    jobs: int | None,
    threads: int | None,
    address: str | None = None,
    trial: TrialFunction = run_trial,
) -> LocalExecutor | RayExecutor | InlineExecutor:
    """An executor by name, running ``trial`` for each trial; ``threads`` defaults to the local
    cores divided by ``jobs``. ``inline`` (not a ``zsl sweep`` choice) runs one trial at a
    time in this process."""
    if kind not in EXECUTORS and kind != "inline":
        raise ConfigError(f"--executor must be one of {', '.join(EXECUTORS)}, got '{kind}'")
    if jobs is not None and jobs < 1:
        raise ConfigError(f"--jobs must be >= 1, got {jobs}")
    if threads is not None and threads < 1:
        raise ConfigError(f"--threads must be >= 1, got {threads}")
    if kind == "inline":
        return InlineExecutor(threads or available_cores(), trial)
    if kind == "ray":
        import_ray()  # fail before anything is created
        if threads is None:
            threads = 1 if address else default_threads(jobs or available_cores())
        if jobs is None and not address:
            jobs = max(1, available_cores() // threads)
        return RayExecutor(jobs, threads, address, trial)
    jobs = jobs or 1
    return LocalExecutor(jobs, threads or default_threads(jobs), trial)
