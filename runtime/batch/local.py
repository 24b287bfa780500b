"""The local engine: a pool of worker processes on this machine, one Analyzer per process, loaded once.

Fault isolation: a video that raises becomes a failed result inside its worker. A worker process that dies (a
segfault in a native library, the OOM killer) breaks a ``ProcessPoolExecutor``: every video in flight then fails
with ``BrokenProcessPool`` and nobody knows which one did it. Those videos are run again one at a time in a
single-worker pool; the one that kills its worker again is recorded as failed, the others get their results, and
the batch goes on in a fresh pool. At most ``2 x workers`` videos are in flight, so a crash costs at most that
many re-runs.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from runtime.analyzer import Analyzer
from runtime.batch import stopping
from runtime.batch.worker import VideoResult, VideoSettings, analyze_video_job

log = logging.getLogger(__name__)

IN_FLIGHT_PER_WORKER = 2  # one running and one queued keeps a worker busy between videos
CRASHED = "the worker process died while analysing this video (a crash in native code, or killed)"
STARTUP_FAILED = ("fer-batch's worker processes die as they start (a script that calls analyze_many must do it under "
                  "`if __name__ == '__main__':`, as multiprocessing requires; see the log for the workers' error)")

DRIVER_CHECK_S = 1.0  # how often a worker looks whether the process that started the batch is still there

_analyzer: Analyzer | None = None  # the worker process's own Analyzer, built by _start_worker


ENV_PREFIX = "FER_EDGE_"  # the runtime's settings in the environment (model folder, hash check), as the caller has them


def runtime_environment() -> dict[str, str]:
    """The caller's ``FER_EDGE_*`` variables, for its workers."""
    return {name: value for name, value in os.environ.items() if name.startswith(ENV_PREFIX)}


def _start_worker(factory: Callable[[], Analyzer], driver: int, environment: dict[str, str] | None = None) -> None:
    """A worker's start: the driver's ``FER_EDGE_*`` variables (a forkserver started by an earlier batch keeps the
    environment it had then, so a script that changed ``$FER_EDGE_MODELS`` since would get the old model folder),
    the watch on the driver, then its Analyzer."""
    global _analyzer
    if environment is not None:
        for name in [name for name in os.environ if name.startswith(ENV_PREFIX) and name not in environment]:
            del os.environ[name]
        os.environ.update(environment)
    threading.Thread(target=_exit_without, args=(driver,), name="fer-batch-driver-watch", daemon=True).start()
    _analyzer = factory()


def _exit_without(driver: int) -> None:
    """Ends the worker when the driver is gone (killed with SIGKILL): a worker blocks on its task queue, whose
    write end it holds itself, so it would never see the driver go and would live on as an orphan."""
    while True:
        time.sleep(DRIVER_CHECK_S)
        try:
            os.kill(driver, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:
            continue  # there, under another user: a recycled pid, which the next check will not clear up


def _ready() -> bool:
    return _analyzer is not None


def _run(index: int, path: str, settings: VideoSettings) -> VideoResult:
    if _analyzer is None:
        raise RuntimeError("the worker has no Analyzer: _start_worker did not run")
    return analyze_video_job(_analyzer, index, path, settings)


def _context() -> multiprocessing.context.BaseContext:
    """Worker processes forked from a clean server process that has imported the runtime once ("forkserver":
    0.1 s for two workers here, against 0.9 s with "spawn", which imports everything again in each; nothing is
    inherited from the caller's threads, unlike "fork"). "spawn" where there is no forkserver (Windows)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


class LocalEngine:
    """Runs videos in ``workers`` processes, each with its own Analyzer.

    Args:
        factory: builds a worker's Analyzer, once per process (picklable: a module-level function or a partial).
        settings: how each video is read.
        workers: how many processes.
    """

    name = "local"

    def __init__(self, factory: Callable[[], Analyzer], settings: VideoSettings, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.factory = factory
        self.settings = settings
        self.workers = workers

    def _pool(self, workers: int) -> ProcessPoolExecutor:
        """A started pool whose workers answered once (a video's crash is then told apart from workers that die
        as they start, which would otherwise fail every video, one at a time)."""
        pool = ProcessPoolExecutor(workers, mp_context=_context(), initializer=_start_worker,
                                   initargs=(self.factory, os.getpid(), runtime_environment()))
        try:
            pool.submit(_ready).result()
        except BrokenProcessPool:
            pool.shutdown(wait=True)
            raise RuntimeError(STARTUP_FAILED) from None
        return pool

    def run(self, items: Sequence[tuple[int, str]]) -> Iterator[VideoResult]:
        """Results of (index, path) items in the order they finish."""
        pending = deque(items)
        while pending:
            suspects: list[tuple[int, str]] = []
            pool = self._pool(self.workers)
            try:
                yield from self._drain(pool, pending, suspects)
            finally:
                pool.shutdown(wait=True, cancel_futures=True)  # on an interrupt, queued videos do not start
            if suspects:
                log.warning("a worker process died; running the %d video(s) it may have held one at a time",
                            len(suspects))
                yield from self._isolate(suspects)

    def _drain(self, pool: ProcessPoolExecutor, pending: deque, suspects: list) -> Iterator[VideoResult]:
        """Feeds the pool until ``pending`` is empty or the pool breaks (then the lost items go to ``suspects``)."""
        futures: dict[Future, tuple[int, str]] = {}
        broken = False
        while futures or (pending and not broken):
            while pending and not broken and len(futures) < IN_FLIGHT_PER_WORKER * self.workers:
                item = pending.popleft()
                try:
                    futures[pool.submit(_run, *item, self.settings)] = item
                except BrokenProcessPool:
                    pending.appendleft(item)
                    broken = True
            done, _ = wait(futures, timeout=stopping.CHECK_S, return_when=FIRST_COMPLETED) \
                if futures else (set(), set())
            stopping.check()  # a SIGTERM/SIGINT is carried out here, where the pool holds no lock
            for future in done:
                item = futures.pop(future)
                try:
                    yield future.result()
                except BrokenProcessPool:
                    broken = True
                    suspects.append(item)

    def _isolate(self, suspects: list[tuple[int, str]]) -> Iterator[VideoResult]:
        """Each suspect alone in a one-worker pool (rebuilt after each crash)."""
        pool: ProcessPoolExecutor | None = None
        try:
            for index, path in suspects:
                pool = pool or self._pool(1)
                try:
                    yield pool.submit(_run, index, path, self.settings).result()
                except BrokenProcessPool:
                    log.error("%s: %s", path, CRASHED)
                    pool.shutdown(wait=True)
                    pool = None
                    yield VideoResult(index, None, f"WorkerCrashed: {CRASHED}", 0.0)
        finally:
            if pool is not None:
                pool.shutdown(wait=True)
