"""What a benchmark's JSON records about its own run: the machine (CPU kind), the date and the command.

    from provenance import stamp
    result.update(stamp())      # {"machine": ..., "date": ..., "command": ...}

The results pages (``benchmarks/render_results.py``) print these three above every table.
"""

import os
import shlex
import sys
import time
from pathlib import Path

ISA_LIMITS = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA")


def machine(cpuinfo: str = "/proc/cpuinfo") -> str:
    """``AMD EPYC 7B13, 2 cores, AVX-512, native bf16, no AMX``: the CPU model, cores and the flags speed hangs on."""
    model, flags = "", set()
    try:
        for line in Path(cpuinfo).read_text(encoding="utf-8").splitlines():
            if line.startswith("model name") and not model:
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    isa = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    bf16 = "native bf16" if flags & {"avx512_bf16", "amx_bf16"} else "no native bf16"
    amx = "AMX" if any(f.startswith("amx") for f in flags) else "no AMX"
    parts = [model or "CPU model not readable", f"{os.cpu_count()} cores", isa, bf16, amx]
    limits = [f"{k}={os.environ[k]}" for k in ISA_LIMITS if os.environ.get(k)]
    return ", ".join(parts) + (f" (limited: {' '.join(limits)})" if limits else "")


def command() -> str:
    """The command line that is running, as one pastes it (ISA limits in the environment included)."""
    script = Path(sys.argv[0]).resolve()
    root = Path(__file__).resolve().parents[1]
    shown = script.relative_to(root).as_posix() if script.is_relative_to(root) else str(script)
    limits = [f"{k}={shlex.quote(os.environ[k])}" for k in ISA_LIMITS if os.environ.get(k)]
    return " ".join([*limits, "python", shlex.join([shown, *sys.argv[1:]])])


def stamp() -> dict:
    return {"machine": machine(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "command": command()}
