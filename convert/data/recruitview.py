"""Interview videos in the RecruitView layout: ``metadata.jsonl`` rows (``file_name``, ``facial_expression``)
naming videos in one folder, turned into labelled 48x48 gray face crops.

Every step is the runtime's own: frames come from ``runtime.video.FrameReader`` (damaged stretches skipped and
reported), faces and their crops from ``runtime.faces.FaceFinder`` as the Analyzer builds it (the detector, the
minimum face size, the padding, rolled faces levelled), levels from ``runtime.report.level_for_score``; so a model
trained here sees at run time the crops it was trained on.

Bad rows are reported (a warning naming the line and the problem) and skipped; only a data set with nothing
usable left is an error. Videos are decoded frame by frame, never loaded whole.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from runtime.faces import FaceFinder, FinderOptions
from runtime.manifest import EXPRESSIVENESS_LABELS, Normalization, json_object
from runtime.options import AnalyzerOptions
from runtime.preprocess import DEFAULT_CROP_PADDING, prepare_faces
from runtime.report import EXPRESSIVE_ABOVE, RESERVED_BELOW, level_for_score
from runtime.results import Detection
from runtime.video import FrameReader

log = logging.getLogger(__name__)

SCORE_KEY = "facial_expression"
FILE_KEY = "file_name"


class FaceDetector(Protocol):
    """Anything that finds faces in a BGR frame (the runtime's BlazeFace detector, or a test double)."""

    def detect(self, frame_bgr: np.ndarray) -> list[Detection]: ...

    def close(self) -> None: ...


def face_finder(padding: float = DEFAULT_CROP_PADDING, detector: FaceDetector | None = None) -> FaceFinder:
    """The runtime's face finder as the Analyzer builds it from its default options (BlazeFace, the minimum face
    size, levelled crops), with the crop ``padding``; ``detector`` replaces BlazeFace when given."""
    return FaceFinder(FinderOptions.of(AnalyzerOptions(crop_padding=padding)), detector=detector)


@dataclass(frozen=True)
class VideoRow:
    """One usable metadata row.

    Attributes:
        line: 1-based line number in the metadata file (for messages).
        path: the video file.
        score: the ``facial_expression`` score.
        label: index into ``EXPRESSIVENESS_LABELS``.
    """

    line: int
    path: Path
    score: float
    label: int


@dataclass(frozen=True)
class SamplingOptions:
    """How faces are taken from a video.

    Attributes:
        frame_skip: use every N-th frame (frames 0, N, 2N, ...).
        max_frames: stop after this many faces from one video.
        padding: grow the (squared) detector box by this fraction of its side before cropping.
        input_side: side of the square gray face given to the model.
    """

    frame_skip: int = 15
    max_frames: int = 20
    padding: float = DEFAULT_CROP_PADDING
    input_side: int = 48

    def __post_init__(self) -> None:
        if self.frame_skip < 1:
            raise ValueError(f"frame_skip must be >= 1, got {self.frame_skip}")
        if self.max_frames < 1:
            raise ValueError(f"max_frames must be >= 1, got {self.max_frames}")
        if self.padding < 0:
            raise ValueError(f"padding must be >= 0, got {self.padding}")
        if self.input_side < 8:
            raise ValueError(f"input_side must be >= 8, got {self.input_side}")


@dataclass(frozen=True)
class VideoFaces:
    """Face crops of the usable videos.

    Attributes:
        faces: (N, side, side, 1) float32 raw pixel values (identity normalization; the model normalizes).
        labels: (N,) int64 class of each face (its video's class).
        videos: (N,) int64 index into ``rows`` of the video each face came from.
        rows: the videos that gave at least one face.
    """

    faces: np.ndarray
    labels: np.ndarray
    videos: np.ndarray
    rows: tuple[VideoRow, ...]

    def __len__(self) -> int:
        return len(self.labels)


def label_for_score(score: float) -> int:
    """The class index of a score: Reserved (< -0.3), Balanced (-0.3..0.3 inclusive), Expressive (> 0.3)."""
    return EXPRESSIVENESS_LABELS.index(level_for_score(score))


def _parse_row(text: str, line: int, videos: Path) -> VideoRow:
    """One metadata line as a VideoRow; raises ValueError naming the problem."""
    data = json_object(text)
    name = data.get(FILE_KEY)
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"missing {FILE_KEY!r}")
    score = data.get(SCORE_KEY)
    if score is None:
        raise ValueError(f"missing {SCORE_KEY!r} score")
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(score):
        raise ValueError(f"{SCORE_KEY!r} must be a finite number, got {score!r}")
    path = videos / name
    if not path.is_file():
        raise ValueError(f"video {path} does not exist")
    return VideoRow(line=line, path=path, score=float(score), label=label_for_score(float(score)))


def read_metadata(metadata: Path, videos: Path) -> list[VideoRow]:
    """Reads ``metadata.jsonl``, reporting and skipping bad rows; blank lines are ignored.

    A row is bad when it is not a JSON object, lacks ``file_name``, has no numeric ``facial_expression``
    score, names a video that does not exist, or repeats a video already listed (it would leak across the
    split).

    Raises:
        FileNotFoundError: the metadata file or the video folder does not exist.
        ValueError: no usable row is left.
    """
    if not metadata.is_file():
        raise FileNotFoundError(f"metadata file {metadata} does not exist")
    if not videos.is_dir():
        raise FileNotFoundError(f"video folder {videos} does not exist")
    rows: list[VideoRow] = []
    seen: dict[Path, int] = {}
    skipped = 0
    with open(metadata, encoding="utf-8", errors="replace") as handle:
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                row = _parse_row(text, line, videos)
                if row.path in seen:
                    raise ValueError(f"video {row.path.name} already listed on line {seen[row.path]}")
            except ValueError as exc:
                log.warning("%s line %d: %s; row skipped", metadata, line, exc)
                skipped += 1
                continue
            seen[row.path] = line
            rows.append(row)
    log.info("%s: %d usable rows, %d skipped", metadata, len(rows), skipped)
    if not rows:
        raise ValueError(f"{metadata} has no usable rows ({skipped} skipped, see the warnings above)")
    return rows


def sample_frames(path: Path, frame_skip: int) -> Iterator[tuple[int, np.ndarray]]:
    """Yields (index, BGR frame) for frames 0, frame_skip, 2*frame_skip, ... through the runtime's FrameReader
    (one frame decoded at a time; unreadable stretches skipped with a warning).

    Raises:
        ValueError: OpenCV cannot open the video.
    """
    frames = iter(FrameReader(path, frame_skip=frame_skip))
    try:
        for index, _, frame in frames:
            yield index, frame
    finally:
        frames.close()  # releases the capture now when the caller stops early (enough faces)


def largest_face_crop(frame: np.ndarray, finder: FaceFinder | None) -> np.ndarray | None:
    """The crop of the largest face the runtime's finder keeps, as the Analyzer would give it to a model.

    The whole frame when ``finder`` is None (the video already shows a face crop); None when no face is kept.
    """
    if finder is None:
        return frame
    found = finder.detect(frame)
    return max(found, key=lambda item: item[0].box.area)[1] if found else None


def extract_faces(path: Path, finder: FaceFinder | None, options: SamplingOptions) -> np.ndarray:
    """Up to ``options.max_frames`` faces from every ``options.frame_skip``-th frame of one video.

    Returns:
        (N, side, side, 1) float32 gray faces, raw pixel values; N may be 0.

    Raises:
        ValueError: OpenCV cannot open the video.
    """
    crops: list[np.ndarray] = []
    for _, frame in sample_frames(path, options.frame_skip):
        face = largest_face_crop(frame, finder)
        if face is not None:
            crops.append(face)
            if len(crops) >= options.max_frames:
                break
    side = options.input_side
    return prepare_faces(crops, (side, side), "gray", Normalization())


def load_video_faces(rows: Sequence[VideoRow], finder: FaceFinder | None, options: SamplingOptions) -> VideoFaces:
    """Face crops of every video, reporting and skipping videos that cannot be read or give no face.

    Raises:
        ValueError: no video gave a face, or a class has no video left (naming the class).
    """
    kept: list[VideoRow] = []
    batches: list[np.ndarray] = []
    for row in rows:
        try:
            faces = extract_faces(row.path, finder, options)
        except ValueError as exc:
            log.warning("metadata line %d: unreadable video: %s; row skipped", row.line, exc)
            continue
        if not len(faces):
            log.warning("metadata line %d: video %s has no usable frames (no face in the sampled frames); "
                        "row skipped", row.line, row.path)
            continue
        kept.append(row)
        batches.append(faces)
    if not kept:
        raise ValueError(f"none of the {len(rows)} videos gave a usable face")
    _require_every_class(kept)
    counts = [len(b) for b in batches]
    log.info("%d faces from %d videos (%d skipped)", sum(counts), len(kept), len(rows) - len(kept))
    return VideoFaces(
        faces=np.concatenate(batches),
        labels=np.repeat([r.label for r in kept], counts).astype(np.int64),
        videos=np.repeat(np.arange(len(kept)), counts).astype(np.int64),
        rows=tuple(kept),
    )


def _require_every_class(rows: Sequence[VideoRow]) -> None:
    present = {r.label for r in rows}
    missing = [name for i, name in enumerate(EXPRESSIVENESS_LABELS) if i not in present]
    if missing:
        raise ValueError(
            f"no usable video for class {', '.join(missing)} (scores: Reserved < {RESERVED_BELOW} "
            f"<= Balanced <= {EXPRESSIVE_ABOVE} < Expressive); a 3-class model needs every class"
        )
