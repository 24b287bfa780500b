"""Expressiveness measures that need no trained model: facial activity from landmarks (``activity``)."""

from runtime.expressiveness.activity import Activity, video_activity
from runtime.expressiveness.following import PersonFollower, follow_person

__all__ = ["Activity", "PersonFollower", "follow_person", "video_activity"]
