"""Which face of each frame is the person whose facial activity is measured."""

from __future__ import annotations

import math
from collections.abc import Sequence


class PersonFollower:
    """Which face to follow, frame after frame, so that one person's landmarks make the series: the face nearest
    the previous choice (centre within half its width), else the largest. A face lost for some frames is picked
    up again where it was; two faces swapping size keep their identities."""

    def __init__(self) -> None:
        self._previous: tuple[float, float, float] | None = None

    def pick(self, faces: Sequence[tuple[float, float, float, float]]) -> int | None:
        """The index of the face to follow among this frame's boxes ``(x, y, w, h)``; None when there is none."""
        if not faces:
            return None
        pick = max(range(len(faces)), key=lambda i: faces[i][2] * faces[i][3])
        if self._previous is not None:
            px, py, pw = self._previous
            gaps = [math.hypot(x + w / 2 - px, y + h / 2 - py) for x, y, w, h in faces]
            nearest = min(range(len(faces)), key=gaps.__getitem__)
            if gaps[nearest] <= pw / 2:
                pick = nearest
        x, y, w, h = faces[pick]
        self._previous = (x + w / 2, y + h / 2, w)
        return pick


def follow_person(boxes: Sequence[Sequence[tuple[float, float, float, float]]]) -> list[int | None]:
    """``PersonFollower.pick`` over a whole video: per frame, the index of the followed face or None."""
    follower = PersonFollower()
    return [follower.pick(faces) for faces in boxes]
