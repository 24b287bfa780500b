"""Face detection with MediaPipe's BlazeFace models, on our own TFLite backend or on MediaPipe Tasks.

    from runtime.detection import DetectorOptions, create_detector

    with create_detector(DetectorOptions(model="short")) as detector:
        faces = detector.detect(frame)  # list[runtime.results.Detection], largest first
"""

from runtime.detection.detector import DetectorOptions, Engine, FaceDetector, create_detector

__all__ = ["DetectorOptions", "Engine", "FaceDetector", "create_detector"]
