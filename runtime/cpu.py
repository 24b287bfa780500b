"""What CPU this is and which of its instruction sets matter for int8 inference.

The same int8 model can run an order of magnitude apart, and (with some quantization schemes) give different
answers, on CPUs of one architecture: ONNX Runtime's u8 x s8 kernels saturate on x86 CPUs without AVX-512 VNNI,
XNNPACK's int8 kernels are far faster with VNNI or ARM's dot-product instructions. Every timing and accuracy
figure the project records names the CPU and these features, read here.
"""

from __future__ import annotations

import platform
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

# The flags (as Linux names them in /proc/cpuinfo) that change int8/fp32 kernels, in the order they are reported.
X86_FEATURES = ("sse4_1", "sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni",
                "avx_vnni", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_int8", "amx_bf16")
ARM_FEATURES = ("asimd", "asimdhp", "asimddp", "i8mm", "bf16", "sve", "sve2", "sme")
# ARM names differ between /proc/cpuinfo and macOS's sysctl hw.optional keys
_MACOS_NAMES = {"neon": "asimd", "arm.FEAT_FP16": "asimdhp", "arm.FEAT_DotProd": "asimddp", "arm.FEAT_I8MM": "i8mm",
                "arm.FEAT_BF16": "bf16", "arm.FEAT_SME": "sme", "avx2_0": "avx2", "avx1_0": "avx",
                "avx512vnni": "avx512_vnni"}


@dataclass(frozen=True)
class CpuInfo:
    """The CPU the process runs on.

    Attributes:
        model: the marketing name ("AMD EPYC 7B13", "Intel(R) Xeon(R) Platinum 8481C"), or the architecture.
        arch: the machine architecture ("x86_64", "aarch64", "arm64").
        features: the int8-relevant instruction-set extensions present, in the order of X86_FEATURES/ARM_FEATURES.
    """

    model: str
    arch: str
    features: tuple[str, ...]

    @property
    def int8_dot_product(self) -> bool:
        """True when the CPU has an 8-bit dot-product instruction (AVX-512 VNNI, AVX-VNNI, AMX or ARM dotprod)."""
        return any(f in self.features for f in ("avx512_vnni", "avx_vnni", "amx_int8", "asimddp"))

    def describe(self) -> str:
        """One line for reports: ``AMD EPYC (x86_64; avx2 fma ...; no int8 dot product)``."""
        dot = "int8 dot product" if self.int8_dot_product else "no int8 dot product"
        return f"{self.model} ({self.arch}; {' '.join(self.features) or 'no extensions read'}; {dot})"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "features": list(self.features), "int8_dot_product": self.int8_dot_product}


def _proc_cpuinfo() -> tuple[str | None, set[str]]:
    try:
        return parse_cpuinfo(Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None, set()


def parse_cpuinfo(text: str) -> tuple[str | None, set[str]]:
    """Model name and flags from the text of Linux's /proc/cpuinfo (x86: "flags", ARM: "Features")."""
    model, flags = None, set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key in ("model name", "hardware", "cpu model") and model is None:
            model = value.strip() or None
        elif key in ("flags", "features") and not flags:
            flags = set(value.split())
    return model, flags


def _macos_sysctl() -> tuple[str | None, set[str]]:
    import subprocess

    try:
        out = subprocess.run(["sysctl", "-a"], capture_output=True, text=True, timeout=5, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None, set()
    model, flags = None, set()
    for line in out.splitlines():
        key, _, value = line.partition(":")
        if key == "machdep.cpu.brand_string":
            model = value.strip()
        elif key.startswith("hw.optional.") and value.strip() == "1":
            name = key[len("hw.optional."):]
            flags.add(_MACOS_NAMES.get(name, name.lower()))
    return model, flags


def cpu_info() -> CpuInfo:
    """Reads the CPU's model name and int8-relevant features (Linux and macOS; elsewhere the features are empty)."""
    arch = platform.machine() or "unknown"
    system = platform.system()
    model, flags = _proc_cpuinfo() if system == "Linux" else _macos_sysctl() if system == "Darwin" else (None, set())
    wanted = ARM_FEATURES if arch.lower() in ("aarch64", "arm64", "armv8l") else X86_FEATURES
    if wanted is ARM_FEATURES and arch.lower() in ("aarch64", "arm64"):
        flags.add("asimd")  # Advanced SIMD (NEON) is mandatory on 64-bit ARM
    return CpuInfo(model=model or platform.processor() or arch, arch=arch,
                   features=tuple(f for f in wanted if f in flags))
