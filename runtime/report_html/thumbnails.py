"""Face thumbnails of the key moments, re-read from the video file by frame number after the analysis.

Nothing is kept during the analysis: the report already holds each frame's number and face box, so the few
chosen frames are decoded again (a seek for far jumps, plain grabs for near ones) only when thumbnails are asked
for. A webcam stream cannot be read twice, so it gets no thumbnails.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from runtime.preprocess import crop, expand_box
from runtime.report_html.series import Moment

log = logging.getLogger(__name__)

SIDE = 112  # pixels of a thumbnail's side (shown at 96 CSS px, sharp on most phones)
JPEG_QUALITY = 80
PADDING = 0.25  # the face box grows by this fraction of its side, so the thumbnail shows the whole face
SEEK_GAP = 250  # frames: a jump further than this seeks (OpenCV decodes from the keyframe before) instead of grabbing


def _encode(image: np.ndarray) -> str:
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("cannot encode a thumbnail as JPEG")
    return "data:image/jpeg;base64," + base64.b64encode(jpeg.tobytes()).decode("ascii")


def face_thumbnail(frame: np.ndarray, moment: Moment) -> str:
    """A crop around the moment's face box (square unless the frame's edge cuts it), SIDE px on its longer side, as
    a JPEG data: URI."""
    box = moment.box
    face = crop(frame, expand_box((box.x, box.y, box.width, box.height), PADDING, frame.shape))
    if face.size == 0:
        raise ValueError(f"frame {moment.index}: the face box lies outside the frame")
    scale = SIDE / max(face.shape[:2])
    size = (max(1, round(face.shape[1] * scale)), max(1, round(face.shape[0] * scale)))
    return _encode(cv2.resize(face, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR))


def thumbnails(source: str | Path, moments: Sequence[Moment]) -> dict[int, str]:
    """Thumbnails of the moments' faces by frame number (frames that cannot be read again, or whose face box lies
    outside the frame read, are left out with a warning).

    Raises:
        ValueError: the source is not a video file that can be opened again (e.g. a webcam).
    """
    path = Path(str(source))
    if not path.is_file():
        raise ValueError(f"thumbnails need the video file, and {source!r} is not one (a webcam is not kept)")
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise ValueError(f"cannot open {path} again for thumbnails")
    found: dict[int, str] = {}
    position = 0  # the index of the frame the next grab returns
    try:
        for moment in sorted(moments, key=lambda m: m.index):
            if moment.index - position > SEEK_GAP:
                capture.set(cv2.CAP_PROP_POS_FRAMES, moment.index)
                position = moment.index
            while position < moment.index and capture.grab():
                position += 1
            ok, frame = capture.read()
            position += 1
            if not ok or position != moment.index + 1:
                log.warning("%s: frame %d could not be read again; no thumbnail for it", path, moment.index)
                continue
            try:
                found[moment.index] = face_thumbnail(frame, moment)
            except ValueError as exc:  # the file changed since the analysis (another size): one thumbnail less
                log.warning("%s: %s; no thumbnail for it", path, exc)
    finally:
        capture.release()
    return found
