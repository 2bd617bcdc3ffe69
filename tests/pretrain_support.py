"""A tiny pre-training recipe over the mirror's movie reviews, for tests that run a real pre-training."""


def review_corpus(mirror, path, lines: int):
    """The first ``lines`` reviews of the mirror's corpus, written to ``path``."""
    with open(mirror / "corpus" / "ko" / "nsmc_raw_reviews.txt", encoding="utf-8") as f:
        path.write_text("".join(next(f) for _ in range(lines)), encoding="utf-8")
    return path


def tiny_recipe(name: str, corpus_file, folder, prepared=None, **overrides) -> dict:
    """Overrides of ``pretrain/larva_kor_tiny`` for a 1-layer, 32-wide model on ``corpus_file``, preparing the
    corpus in ``prepared`` (default ``folder/prepared``) and writing the run to ``folder/run``; ``overrides``
    replace or add keys."""
    values = {
        "name": name,
        "corpus.files": [str(corpus_file)],
        "corpus.shard_size_mb": 0.02,
        "tokenizer.name_or_path": "vocab/koelectra",  # the mirror's vocab: no vocab build in a test
        "corpus.prepared_dir": str(prepared or folder / "prepared"),
        "trainer.log_dir": str(folder / "run"),
        "transformers_config.hidden_size": 32,
        "transformers_config.num_hidden_layers": 1,
        "transformers_config.num_attention_heads": 2,
        "transformers_config.intermediate_size": 64,
        "schedule.sequence_length": [[None, 32, 8]],
        "trainer.max_steps": 2,
        "checkpoint.save_every_steps": 2,
        "evaluation.num_instances": 16,
        "trainer.progress": False,
        "trainer.precision": "fp32",
        "trainer.verbose_step_count": 0,
    }
    values.update(overrides)
    return values
