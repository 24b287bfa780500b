"""fer-edge runtime: face detection and expression recognition on TFLite or ONNX Runtime, without TensorFlow."""
