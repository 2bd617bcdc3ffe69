"""Pre-trained checkpoints in a newcomer's first hour, through pretrain.py / train.py as typed:
a resumed run may raise its sequence length and change save_every_steps, names below 1k steps read
as steps, published names are never replaced silently, a fine-tuning run records the checksum it
loaded, and a name that resolves nowhere fails with one line."""

import json
import os
import shutil
import stat

import pytest
from test_first_hour import one_error_line, run


@pytest.fixture(scope="module")
def corpus_file(mirror, tmp_path_factory):
    path = tmp_path_factory.mktemp("fh_corpus") / "reviews.txt"
    with open(mirror / "corpus" / "ko" / "nsmc_raw_reviews.txt", encoding="utf-8") as f:
        path.write_text("".join(next(f) for _ in range(600)), encoding="utf-8")
    return path


def pretrain_args(corpus_file, root, log_dir, *extra):
    return [
        "--base_config",
        "pretrain/larva_kor_tiny",
        "--name",
        "larva-fh",
        "--corpus.files",
        json.dumps([str(corpus_file)]),
        "--corpus.shard_size_mb",
        0.02,
        "--tokenizer.name_or_path",
        "vocab/koelectra",
        "--corpus.prepared_dir",
        root / "prepared",
        "--trainer.log_dir",
        log_dir,
        "--transformers_config.hidden_size",
        32,
        "--transformers_config.num_hidden_layers",
        1,
        "--transformers_config.num_attention_heads",
        2,
        "--transformers_config.intermediate_size",
        64,
        "--evaluation.holdout_documents",
        0,
        "--trainer.precision",
        "fp32",
        "--trainer.num_threads",
        1,
        "--optimizer.lr_scheduler_type",
        "constant",
        *extra,
    ]


@pytest.fixture(scope="module")
def store(corpus_file, tmp_path_factory):
    """Pre-train 4 steps (positions 32, save every 2), then resume to 8 steps at length 64 and save every 4."""
    root = tmp_path_factory.mktemp("fh_store")
    saved = {k: os.environ.get(k) for k in ("CLAF_HUB_DIR", "CLAF_CACHE", "CLAF_MODEL_INDEX")}
    os.environ.update(CLAF_HUB_DIR=str(root / "hub"), CLAF_CACHE=str(root / "cache"))
    os.environ.pop("CLAF_MODEL_INDEX", None)
    log_dir = root / "run"
    first = run(
        "pretrain.py",
        *pretrain_args(
            corpus_file,
            root,
            log_dir,
            "--trainer.max_steps",
            4,
            "--checkpoint.save_every_steps",
            2,
            "--schedule.sequence_length",
            "[[null, 32, 8]]",
            "--transformers_config.max_position_embeddings",
            32,
        ),
    )
    second = run(
        "pretrain.py",
        *pretrain_args(
            corpus_file,
            root,
            log_dir,
            "--trainer.max_steps",
            8,
            "--checkpoint.save_every_steps",
            4,
            "--schedule.sequence_length",
            "[[4, 32, 8], [null, 64, 8]]",
            "--trainer.resume",
            "true",
            "--transformers_config.max_position_embeddings",
            64,
        ),
    )
    yield {"root": root, "log_dir": log_dir, "first": first, "second": second}
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def test_resume_raises_length_and_changes_save_interval(store):
    assert store["first"][0] == 0, store["first"][2]
    assert store["second"][0] == 0, store["second"][2]  # no load_state_dict size mismatch, not ended early
    published = [e["name"] for e in json.loads((store["log_dir"] / "published.json").read_text())]
    assert published == ["larva-fh-2", "larva-fh-4", "larva-fh-8"]  # readable below 1k steps
    state = json.loads((store["log_dir"] / "checkpoints" / "last" / "trainer_state.json").read_text())
    assert state["global_step"] == 8
    config = json.loads((store["log_dir"] / "checkpoints" / "larva-fh-8" / "config.json").read_text())
    assert config["max_position_embeddings"] == 64
    hub = store["root"] / "hub"
    umask = os.umask(0)
    os.umask(umask)
    for name in ("index.json", "larva-fh-8.tar.gz.sha256", "larva-fh-8.tar.gz"):  # a shared store is readable
        assert stat.S_IMODE((hub / name).stat().st_mode) == 0o666 & ~umask, name


def test_a_published_name_is_not_replaced_silently(store, corpus_file):
    from claf.hub.cache import HubError
    from claf.hub.store import LocalStore
    from claf.pretrain.publish import publish_checkpoint

    root = store["root"]
    code, _, err = run(
        "pretrain.py",
        *pretrain_args(
            corpus_file, root, root / "other_run", "--trainer.max_steps", 2, "--checkpoint.save_every_steps", 2
        ),
    )
    assert code == 1 and "larva-fh-2 is already published" in one_error_line(err)
    assert not (root / "other_run" / "checkpoints").exists()  # refused before training

    impostor = root / "impostor" / "larva-fh-4"
    shutil.copytree(store["log_dir"] / "checkpoints" / "larva-fh-2", impostor)
    with pytest.raises(HubError, match="already published .* with another checksum"):
        publish_checkpoint(impostor, LocalStore(root / "hub"), keep_archive=False)
    index = json.loads((root / "hub" / "index.json").read_text())["models"]
    assert index["larva-fh-4"]["url"].endswith("larva-fh-4.tar.gz") and index["larva-fh-4"]["step"] == 4


def test_finetuning_records_the_checksum_and_reruns_the_same_weights(store):
    from claf.hub.store import LocalStore
    from claf.pretrain.publish import publish_checkpoint

    root = store["root"]
    log_dir = root / "nsmc"
    args = [
        "--base_config",
        "klue/nsmc_larva_tiny",
        "--bert_for_seq_cls.pretrained_model_name",
        "larva-fh-8",
        "--seq_cls.max_seq_length",
        64,
        "--data_reader.train_limit",
        32,
        "--data_reader.valid_limit",
        16,
        "--trainer.num_epochs",
        1,
        "--trainer.log_dir",
        log_dir,
        "--trainer.num_threads",
        1,
    ]
    code, _, err = run("train.py", *args)
    assert code == 0, err
    index = json.loads((root / "hub" / "index.json").read_text())["models"]
    recorded = json.loads((log_dir / "config.json").read_text())["resolved_checkpoint"]
    assert recorded == {
        "name": "larva-fh-8",
        "url": index["larva-fh-8"]["url"],
        "sha256": index["larva-fh-8"]["sha256"],
    }

    republished = root / "republished" / "larva-fh-8"  # the name now points at other weights
    shutil.copytree(store["log_dir"] / "checkpoints" / "larva-fh-4", republished)
    entry = publish_checkpoint(republished, LocalStore(root / "hub"), keep_archive=False, overwrite=True)
    assert entry["sha256"] != recorded["sha256"]
    code, _, err = run("train.py", "--base_config", log_dir, "--trainer.overwrite", "true")
    assert code == 0, err
    assert "loading the one this run recorded" in err
    assert json.loads((log_dir / "config.json").read_text())["resolved_checkpoint"] == recorded

    args[args.index(log_dir)] = root / "nsmc9"
    code, _, err = run("train.py", *args[:3], "larva-fh-9", *args[4:])  # a name nobody published
    line = one_error_line(err)
    assert code == 1 and "'larva-fh-9' not found" in line and "closest: larva-fh-8" in line
    assert str(root / "hub" / "index.json") in line and "CLAF_MODEL_INDEX" in line


def test_default_checkpoint_before_pretraining_names_the_recipe(tmp_path, monkeypatch):
    monkeypatch.setenv("CLAF_HUB_DIR", str(tmp_path / "empty_hub"))
    monkeypatch.delenv("CLAF_MODEL_INDEX", raising=False)
    code, _, err = run("train.py", "--base_config", "klue/nsmc_larva_tiny", "--trainer.log_dir", tmp_path / "run")
    line = one_error_line(err)
    assert code == 1 and "'larva-kor-tiny-8k' not found" in line
    assert "python pretrain.py --base_config pretrain/larva_kor_tiny" in line and "OSError" not in err
