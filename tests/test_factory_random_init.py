"""The random-init baseline is built once per folder, even when two workers start its jobs at the same time;
each weight seed is its own init."""

import threading

import torch
from transformers import AutoModel

from claf.factory.job import random_init


def test_two_workers_build_the_same_random_init_at_once(tiny_korean_bert, tmp_path):
    folder = tmp_path / "random-init-abc"
    start, results, errors = threading.Barrier(3), [], []

    def worker():
        start.wait()
        try:
            results.append(random_init(str(tiny_korean_bert), folder))
        except Exception as exc:  # noqa: BLE001 - the test reports whatever a worker raised
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and results == [str(folder)] * 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["random-init-abc"]  # no temporary folder left
    tokenizer_files = {f.name for f in tiny_korean_bert.iterdir() if f.name.startswith(("tokenizer", "vocab"))}
    assert tokenizer_files and tokenizer_files <= {f.name for f in folder.iterdir()}  # the tokenizer came along
    again = AutoModel.from_pretrained(folder)
    reference = AutoModel.from_pretrained(tiny_korean_bert)
    assert type(again) is type(reference) and again.config.hidden_size == reference.config.hidden_size


def test_each_weight_seed_is_its_own_init_and_the_same_seed_the_same_weights(tiny_korean_bert, tmp_path):
    def weights(folder):
        return AutoModel.from_pretrained(folder).embeddings.word_embeddings.weight

    zero = random_init(str(tiny_korean_bert), tmp_path / "a", seed=0)
    zero_again = random_init(str(tiny_korean_bert), tmp_path / "b")  # seed 0 is the default
    one = random_init(str(tiny_korean_bert), tmp_path / "c", seed=1)
    assert torch.equal(weights(zero), weights(zero_again))
    assert not torch.equal(weights(zero), weights(one))
