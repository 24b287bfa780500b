"""Face landmarks: MediaPipe's 468-point face mesh on our own TFLite backend, cropped as MediaPipe crops it.

    from runtime.landmarks import FaceLandmarker, roi_from_detection

    with FaceLandmarker() as landmarker:
        mesh = landmarker.landmarks(bgr, roi_from_detection(box, detection.keypoints))
        mesh.points  # (468, 3) frame pixels; mesh.score: face presence in [0, 1]
"""

from runtime.landmarks.geometry import Roi, roi_from_detection, roi_from_landmarks
from runtime.landmarks.model import MIN_PRESENCE, NUM_LANDMARKS, FaceLandmarker, Landmarks

__all__ = ["MIN_PRESENCE", "NUM_LANDMARKS", "FaceLandmarker", "Landmarks", "Roi", "roi_from_detection",
           "roi_from_landmarks"]
