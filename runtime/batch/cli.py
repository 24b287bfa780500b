"""`fer-batch`: many videos at once, on this machine's cores or on a Ray cluster, resumable.

Inputs are folders (searched recursively), glob patterns ('videos/**/*.mp4', quoted), manifests (.csv or .jsonl
with a path column; the other columns are carried into the summary) or video files. Each video gets a JSON report
(fer-analyze's --json for that video) under --out, plus summary.csv (and summary.parquet with pyarrow). Running
the same command again skips the videos whose report is complete; --force redoes them.

Exit codes: 0 every video has a report; 1 some videos failed (listed; the others are done) or the work failed;
2 bad usage or input (no videos, a bad manifest, models that cannot be loaded); 130/143 interrupted (finished
reports stay and a rerun goes on from them).
"""

from __future__ import annotations

import argparse
import logging
import signal
from pathlib import Path

from runtime import __version__
from runtime.batch import stopping
from runtime.batch.inputs import DEFAULT_PATH_COLUMN
from runtime.batch.runner import ENGINES, BatchSummary, analyze_many
from runtime.batch.worker import VideoSettings
from runtime.cli import (
    add_analyzer_arguments,
    add_verbosity_arguments,
    add_video_arguments,
    analyzer_options,
    configure_logging,
    run_command,
)

log = logging.getLogger("fer-batch")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fer-batch", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="+", help="folders, glob patterns, manifests (.csv/.jsonl) or videos")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add_verbosity_arguments(parser)
    parser.add_argument("--out", type=Path, required=True, help="folder for the reports and the summary")
    parser.add_argument("--engine", default="local", choices=ENGINES,
                        help="local: worker processes (default); ray: Ray Data actors (pip install 'fer-edge[ray]')")
    parser.add_argument("--workers", type=int, help="worker processes or Ray actors (default: the usable cores)")
    parser.add_argument("--ray-address", help="Ray cluster to use (default: $RAY_ADDRESS, else a local instance)")
    parser.add_argument("--path-column", default=DEFAULT_PATH_COLUMN,
                        help=f"the manifests' column of video paths (default {DEFAULT_PATH_COLUMN!r})")
    parser.add_argument("--force", action="store_true", help="analyse every video again, even with a complete report")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--html", action="store_true",
                        help="also each video's report page for the candidate, beside its report as .html "
                             "(pip install 'fer-edge[report]')")
    add_analyzer_arguments(parser)  # --threads: per worker (default: cores // workers)
    add_video_arguments(parser)
    return parser


def _interrupted(signum: int, frame: object) -> None:
    stopping.request(128 + signum)  # carried out by the engine between results (runtime.batch.stopping)


def _say(summary: BatchSummary, out: Path) -> None:
    print(f"{len(summary.rows)} videos: {summary.count('done')} analysed, {summary.count('skipped')} already done, "
          f"{summary.failed} failed, in {summary.seconds:.1f} s ({summary.workers} workers x {summary.threads} "
          f"threads); reports in {out}; summary: {', '.join(str(p) for p in summary.files)}")
    for row in summary.rows:
        if row.status == "failed":
            print(f"  FAILED {row.path}: {row.error}")


def _batch(args: argparse.Namespace) -> int:
    summary = analyze_many(
        args.inputs, args.out, engine=args.engine, workers=args.workers, threads=args.threads,
        options=analyzer_options(args), force=args.force, progress=not (args.no_progress or args.quiet),
        settings=VideoSettings(args.frame_skip, args.max_frames, args.smoothing, html=args.html),
        ray_address=args.ray_address, path_column=args.path_column)
    if not args.quiet:
        _say(summary, args.out)
    return 1 if summary.failed else 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging(args)
    if not args.quiet:
        logging.getLogger("runtime.batch").setLevel(logging.INFO)
    # SIGTERM (a scheduler, `kill`) and Ctrl-C: the workers are shut down, finished reports stay
    previous = {sig: signal.signal(sig, _interrupted) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        return run_command(lambda: _batch(args), log)
    except (KeyboardInterrupt, SystemExit) as exc:
        log.error("interrupted: finished reports are kept; run the same command again to go on")
        return exc.code if isinstance(exc, SystemExit) and isinstance(exc.code, int) else 130
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

if __name__ == "__main__":
    raise SystemExit(main())
