"""Face detection with MediaPipe's BlazeFace models."""
