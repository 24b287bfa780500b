"""What the page says in words: the verdict in plain language, the method behind it, what drove it, the models'
measured accuracy, and what the numbers cannot tell. Kept apart from the HTML so the wording is easy to review."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from runtime.expressiveness.activity import LOG_CLIP, SCORE_PER_DOUBLING, WEIGHTS, log_ratios
from runtime.manifest import load_manifest
from runtime.report import EMOTION_INTENSITY as INTENSITY_METHOD
from runtime.report import EXPRESSIVE_ABOVE, RESERVED_BELOW, Expressiveness
from runtime.report import FACIAL_ACTIVITY as ACTIVITY_METHOD

LEVEL_MEANING = {
    "Reserved": "Your face showed little visible expression for most of the interview: it came across as calm "
                "and contained, possibly as flat.",
    "Balanced": "Your face showed some expression without being animated: neither flat nor exuberant.",
    "Expressive": "Your face was animated and showed a lot of visible expression over the interview.",
}

EMOTION_INTENSITY = (
    "Derived from the emotion model: how far your face read as something other than Neutral, averaged over the "
    f"frames with a face (score = 2 × mean(1 − P(Neutral)) − 1; below {RESERVED_BELOW:+.1f} is Reserved, above "
    f"{EXPRESSIVE_ABOVE:+.1f} Expressive). Talking faces often read as Neutral, so this measure leans towards "
    "Reserved; it is not calibrated against human ratings.")
FACIAL_ACTIVITY = (
    "Derived from what your face did over the video (facial landmarks: smiles, brow and mouth movement, head "
    "motion), each measured against your own resting face.")
EXPRESSIVENESS_MODEL = "Read by the expressiveness model {name}, trained on interview videos scored by experts."

# the facial-activity components (runtime.expressiveness.activity.components) in the candidate's words
COMPONENT_NAMES = {"smiling": "Smiling", "brow_activity": "Brow movement", "mouth_activity": "Mouth movement",
                   "eye_activity": "Eye movement", "deformation": "Face movement overall",
                   "head_motion": "Head motion", "non_neutral": "Expression (emotion model)"}

LIMITS = (
    "The emotion model reads the appearance of your face in single frames; it does not know what you felt or "
    "meant.",
    "Its accuracy was measured on still photos of faces (FER-2013), not on interview video: on a talking face in "
    "a webcam recording, expect it to be wrong more often than the figure says.",
    "Light, camera angle, glasses, a beard or a small face in the picture change what it sees.",
    "Nothing here judges your answers, your competence, your personality or how an interviewer would rate you: "
    "it describes how your face came across on camera.",
)


def method_text(expressiveness: Expressiveness) -> str:
    """One sentence on the method that produced the verdict, for the methods the runtime knows."""
    method = expressiveness.method
    if method == "emotion-intensity":
        return EMOTION_INTENSITY
    if method.startswith("model:"):
        return EXPRESSIVENESS_MODEL.format(name=method.split(":", 1)[1])
    if "activity" in method or "landmark" in method:
        return FACIAL_ACTIVITY
    return f"Method: {method}."


def score_range(method: str) -> tuple[float, float] | None:
    """The range a method's score can take: emotion intensity -1 to +1 (2 x a mean probability - 1), facial
    activity +-3 (weighted log2 ratios clipped to +-3, one unit a doubling); None for a trained head's (linear,
    unbounded) or an unknown method's."""
    if method == INTENSITY_METHOD:
        return -1.0, 1.0
    if method == ACTIVITY_METHOD:
        return -LOG_CLIP * SCORE_PER_DOUBLING, LOG_CLIP * SCORE_PER_DOUBLING
    return None


def component_name(key: str) -> str:
    return COMPONENT_NAMES.get(key, key.replace("_", " ").capitalize())


@dataclass(frozen=True)
class Driver:
    """One component of the verdict against its typical level in interviews: ``log2_ratio`` 0 is typical, +1 twice
    it, -1 half of it (clipped to +-3, as the measure clips it)."""

    name: str
    log2_ratio: float
    weight: float

    @property
    def text(self) -> str:
        return f"{2 ** self.log2_ratio:.2g}x typical"


def drivers(expressiveness: Expressiveness) -> list[Driver]:
    """The verdict's components (``Expressiveness.components``, where the method has them), each against its
    typical level, the ones that moved the score most first (weight times distance from typical)."""
    components = getattr(expressiveness, "components", None) or {}
    found = [Driver(component_name(k), r, WEIGHTS[k]) for k, r in log_ratios(components).items()]
    return sorted(found, key=lambda d: -abs(d.log2_ratio) * d.weight)


@dataclass(frozen=True)
class ModelNote:
    """A model as the fine print names it, from its manifest."""

    name: str
    description: str


def model_note(path: str | Path) -> ModelNote:
    """What a model file's manifest says about it: task, format, precision and the accuracy measured for it."""
    path = Path(path)
    try:
        manifest = load_manifest(path)
    except (FileNotFoundError, ValueError) as exc:
        return ModelNote(path.name, f"no readable manifest ({exc})")
    parts = [f"{manifest.task} model, {manifest.format} {manifest.precision}, "
             f"{manifest.input_size[0]}×{manifest.input_size[1]} {manifest.color}"]
    privatetest = manifest.verification.get("privatetest", {})
    for key, what in (("fer2013", "FER-2013 PrivateTest"), ("ferplus", "FER+ labels")):
        measured = privatetest.get(key, {}) if isinstance(privatetest, dict) else {}
        if isinstance(measured, dict) and isinstance(measured.get("accuracy"), (int, float)):
            count = f" of {measured['n']:,} faces" if isinstance(measured.get("n"), int) else ""
            parts.append(f"{measured['accuracy']:.1%} correct on {what}{count}")
    if len(parts) == 1:
        parts.append("no accuracy recorded in its manifest")
    return ModelNote(path.name, "; ".join(parts))
