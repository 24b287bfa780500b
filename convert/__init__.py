"""Build side of fer-edge: train the Keras models, export them to TFLite and ONNX, quantize, verify.

Everything that needs TensorFlow imports it inside the function that uses it, so the data loaders
stay usable (by the benchmarks, say) without it.
"""

from runtime import __version__  # one version for the distribution (pyproject reads it there)

__all__ = ["__version__"]
