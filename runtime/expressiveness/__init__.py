"""Expressiveness measures that need no trained model: facial activity from landmarks (``activity``)."""

from runtime.expressiveness.activity import Activity, PersonFollower, follow_person, video_activity

__all__ = ["Activity", "PersonFollower", "follow_person", "video_activity"]
