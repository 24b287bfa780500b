"""The Ray engine: Ray Data reads the list of video paths and maps it through a pool of actors, each holding one
Analyzer loaded once. It needs the extra ``ray`` (``pip install 'fer-edge[ray]'``).

What travels: to each actor, once, the Analyzer factory (its options: model paths and settings, a few hundred
bytes); to an actor per video, one row (index, path); back from it, the video's result as one JSON string (the
analysis document or the error, and the seconds). Frames are decoded and analysed inside the actor and never go
through the object store. On a cluster every node must see the videos and models at the same paths (shared
storage or the same image) and have fer-edge installed.

Fault isolation: a video that raises is a failed result from its actor. An actor whose process dies is restarted
by Ray (Ray Data's default); its video is not retried (``max_task_retries=0``, one video in flight per actor, one
video per block) and its block is allowed to fail (``max_errored_blocks``), so that video comes back as failed.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from runtime.analyzer import Analyzer
from runtime.batch.worker import VideoResult, VideoSettings, analyze_video_job

log = logging.getLogger(__name__)

LOST = "the Ray task failed without a result (its actor died, or Ray gave up on it)"


def import_ray() -> Any:
    """Ray with Ray Data, or an ImportError that names the extra to install."""
    try:
        import ray
        import ray.data  # Ray Data needs the extra dependencies of ray[data]
    except ImportError as exc:
        raise ImportError("the ray engine needs Ray Data: pip install 'fer-edge[ray]' "
                          f"(or pip install 'ray[data]'): {exc}") from exc
    return ray


class AnalyzerActor:
    """Ray Data's callable class: builds the Analyzer when the actor starts, then analyses one batch of rows."""

    def __init__(self, factory: Callable[[], Analyzer], settings: VideoSettings) -> None:
        self.analyzer = factory()
        self.settings = settings

    def __call__(self, batch: dict[str, Any]) -> dict[str, list]:
        results = [analyze_video_job(self.analyzer, int(index), str(path), self.settings)
                   for index, path in zip(batch["index"], batch["path"])]
        return {"index": [r.index for r in results], "result": [json.dumps(r.to_dict()) for r in results]}


class RayEngine:
    """Runs videos on a Ray instance: the one already connected, else ``address`` (or ``$RAY_ADDRESS``), else a
    new local instance (shut down again at the end).

    Args:
        factory: builds an actor's Analyzer (sent to each actor once).
        settings: how each video is read.
        workers: the actor pool's size.
        threads: CPUs each actor reserves (its Analyzer's threads).
        address: a Ray cluster to join ("ray://host:10001", "auto"); None: $RAY_ADDRESS or a local instance.
    """

    name = "ray"

    def __init__(self, factory: Callable[[], Analyzer], settings: VideoSettings, workers: int, threads: int = 1,
                 address: str | None = None) -> None:
        if workers < 1 or threads < 1:
            raise ValueError(f"workers and threads must be >= 1, got {workers} and {threads}")
        self.ray = import_ray()
        self.factory = factory
        self.settings = settings
        self.workers = workers
        self.threads = threads
        self.address = address

    def run(self, items: Sequence[tuple[int, str]]) -> Iterator[VideoResult]:
        """Results of (index, path) items as Ray Data streams them out; lost videos at the end."""
        ray = self.ray
        started = not ray.is_initialized()
        if started:
            ray.init(address=self.address, include_dashboard=False, logging_level=logging.WARNING,
                     configure_logging=False)
        context = ray.data.DataContext.get_current()
        saved = context.max_errored_blocks, context.enable_progress_bars
        context.max_errored_blocks, context.enable_progress_bars = len(items), False
        seen: set[int] = set()
        try:
            rows = ray.data.from_items([{"index": index, "path": path} for index, path in items],
                                       override_num_blocks=len(items))
            with warnings.catch_warnings():
                # Ray 2.60 deprecates passing remote args (removal in 2.64, hence the pin in pyproject.toml) and
                # has no other way yet to stop retrying actor tasks, which it does forever by default: a video
                # that kills its actor must not be sent again
                warnings.filterwarnings("ignore", "`ray_remote_args` is deprecated", category=DeprecationWarning)
                results = rows.map_batches(
                    AnalyzerActor, fn_constructor_kwargs={"factory": self.factory, "settings": self.settings},
                    batch_size=1, batch_format="numpy", num_cpus=self.threads, max_task_retries=0,
                    compute=ray.data.ActorPoolStrategy(size=self.workers, max_tasks_in_flight_per_actor=1))
            for row in results.iter_rows():
                result = VideoResult(**json.loads(row["result"]))
                seen.add(result.index)
                yield result
        finally:
            context.max_errored_blocks, context.enable_progress_bars = saved
            if started:
                ray.shutdown()
        for index, path in items:
            if index not in seen:
                log.error("%s: %s", path, LOST)
                yield VideoResult(index, None, f"WorkerCrashed: {LOST}", 0.0)
