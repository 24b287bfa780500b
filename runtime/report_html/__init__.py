"""The interview report page: one self-contained HTML file a candidate can read, print or hand over.

    report = analyzer.analyze_video("interview.mp4", frame_skip=2)
    report.write_html("report.html", models=[analyzer.emotion.path])

Charts are drawn with matplotlib (the extra ``fer-edge[report]``) into inline SVG; the page has inline CSS, no
script and no external resource. ``VideoReport.to_html``/``write_html`` import this package only when called, so
``import runtime`` and the analysis never load matplotlib.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runtime.report import VideoReport

EXTRA = "report"
INSTALL_HINT = f"pip install 'fer-edge[{EXTRA}]'"


def require() -> None:
    """Checks that the page can be made (matplotlib is importable), before any long work.

    Raises:
        ImportError: matplotlib is missing; the message names the extra to install.
    """
    try:
        found = importlib.util.find_spec("matplotlib") is not None
    except ValueError:  # a module set to None in sys.modules (how tests hide it)
        found = False
    if not found:
        raise ImportError(f"the report page needs matplotlib, which is not installed: {INSTALL_HINT}")


@dataclass(frozen=True)
class PageOptions:
    """What goes into the page.

    Attributes:
        models: model files (.tflite/.onnx) whose manifests the fine print names, with their measured accuracy.
        thumbnails: embed small face thumbnails of the key moments, re-read from the video file. They show the
            candidate's face: off by default, because the page may be shared.
    """

    models: Sequence[str | Path] = ()
    thumbnails: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.models, (str, Path)):
            raise ValueError(f"models must be a list of model files, got one path {self.models!r}")
        object.__setattr__(self, "models", tuple(Path(m) for m in self.models))
        if not isinstance(self.thumbnails, bool):
            raise ValueError(f"thumbnails must be True or False, got {self.thumbnails!r}")


def render(report: VideoReport, options: PageOptions | None = None) -> str:
    """The page for a video report, as one HTML string.

    Raises:
        ImportError: matplotlib is missing (names the extra).
        ValueError: thumbnails asked for a source that is not a video file (a webcam).
    """
    require()
    from runtime.report_html.page import html_page
    from runtime.report_html.series import key_moments
    from runtime.report_html.thumbnails import thumbnails

    options = options or PageOptions()
    moments = key_moments(report)
    pictures = thumbnails(report.source, moments) if options.thumbnails and moments else None
    return html_page(report, options.models, pictures, moments)


def write(report: VideoReport, path: str | Path, options: PageOptions | None = None) -> Path:
    """Writes the page to ``path`` (UTF-8). Raises as `render` does, and OSError when the file cannot be written."""
    text = render(report, options)
    path = Path(path)
    path.write_text(text, encoding="utf-8")
    return path
