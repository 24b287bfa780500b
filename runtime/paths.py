"""Where the runtime finds its shipped model files."""

from __future__ import annotations

import os
from pathlib import Path

MODELS_ENV = "FER_EDGE_MODELS"


def default_model_dir() -> Path:
    """The folder of shipped models: ``$FER_EDGE_MODELS``, else ``models/`` beside the ``runtime`` package.

    The second works for a source checkout and an editable install, where the repository's ``models/`` folder
    sits next to ``runtime/``. The face detector's files are in its ``blazeface/`` subfolder.
    """
    if os.environ.get(MODELS_ENV):
        return Path(os.environ[MODELS_ENV]).expanduser()
    return Path(__file__).resolve().parent.parent / "models"
