"""Which face of each frame is the person whose facial activity is measured."""

from __future__ import annotations

import math
from collections.abc import Sequence

# analyzed frames the followed person may be out of view (a detector miss, a hand over the face) before the
# largest face is followed instead: about a second at 30 fps, so that a cut to another person is followed, while
# an interviewer in view does not take over the candidate's series during a short dropout
LOST_AFTER = 30


class PersonFollower:
    """Which face to follow, frame after frame, so that one person's landmarks make the series: the face nearest
    the previous choice (centre within half its width), else, at the start, the largest. While the followed person
    is out of view, no face is followed (None), even if another one is there, for up to ``lost_after`` frames; a
    face back where the person was is picked up again. Two faces swapping size keep their identities."""

    def __init__(self, lost_after: int = LOST_AFTER) -> None:
        self._previous: tuple[float, float, float] | None = None
        self._missing = 0
        self.lost_after = lost_after

    def pick(self, faces: Sequence[tuple[float, float, float, float]]) -> int | None:
        """The index of the face to follow among this frame's boxes ``(x, y, w, h)``; None when there is none."""
        if self._previous is not None:
            px, py, pw = self._previous
            gaps = [math.hypot(x + w / 2 - px, y + h / 2 - py) for x, y, w, h in faces]
            nearest = min(range(len(faces)), key=gaps.__getitem__) if faces else None
            if nearest is not None and gaps[nearest] <= pw / 2:
                return self._follow(faces, nearest)
            self._missing += 1
            if self._missing <= self.lost_after:
                return None  # the person is away: another face must not enter their series
        if not faces:
            return None
        return self._follow(faces, max(range(len(faces)), key=lambda i: faces[i][2] * faces[i][3]))

    def _follow(self, faces: Sequence[tuple[float, float, float, float]], pick: int) -> int:
        x, y, w, h = faces[pick]
        self._previous, self._missing = (x + w / 2, y + h / 2, w), 0
        return pick


def follow_person(boxes: Sequence[Sequence[tuple[float, float, float, float]]],
                  lost_after: int = LOST_AFTER) -> list[int | None]:
    """``PersonFollower.pick`` over a whole video: per frame, the index of the followed face or None."""
    follower = PersonFollower(lost_after)
    return [follower.pick(faces) for faces in boxes]
