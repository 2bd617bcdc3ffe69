"""LaRva pre-training: corpus shards, on-the-fly instances and masks, schedules, model, publishing.

    python pretrain.py --base_config pretrain/larva_kor_tiny            # or: python -m claf pretrain ...

Data flows one way: source text -> ``prepare`` (tokenized once into shards) -> ``instances``
(built on the fly from shards) -> ``masking`` (on the fly, seeded by (seed, epoch, index)) ->
``stream`` (batches by step, following the ``schedules``) -> the trainer -> ``publish`` (packaged
checkpoints published to a ``claf.hub`` store). Importing this package loads nothing heavy.
"""
