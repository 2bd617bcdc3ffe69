"""Every shipped fine-tuning BaseConfig's reader reads its full files from the mirror (readers only, no model).

A config's files that the mirror does not hold (KorQuAD train, GLUE QQP, ...) are left out; the configs
none of whose files are there are listed (and checked) in NOT_IN_MIRROR. NSMC drops its 5 + 3 empty reviews,
as its users do.
"""

import pytest
from conftest import MIRROR

from claf.config.kinds import names_of_kind
from claf.config.loader import find_base_config, list_base_configs, load_json
from claf.data.sources import load_manifest
from claf.registry import READERS


def fine_tuning_configs():
    """The shipped fine-tuning BaseConfigs (the recipe-kind table decides which those are)."""
    return names_of_kind("finetune", list_base_configs())


def in_mirror(name):
    entry = load_manifest().get(name) or {}
    return (MIRROR / entry.get("mirror_name", name)).is_file()


def reader_blocks(config):
    """(where, data_reader-like block) of a config: itself, or each task of a multi-task config."""
    dr = config["data_reader"]
    if dr["dataset"] == "multi_task":
        return [(f"multi_task.tasks.{name}", block) for name, block in dr["multi_task"]["tasks"].items()]
    return [("data_reader", dr)]


def mirror_files(name):
    files = []
    for _where, block in reader_blocks(load_json(find_base_config(name))):
        files += [
            block.get("train_file_path"),
            block.get("valid_file_path"),
            *(block.get("extra_valid_file_paths") or {}).values(),
        ]
    return [f for f in files if f and in_mirror(f)]


NOT_IN_MIRROR = {"glue/mnli_bert", "glue/qnli_bert", "glue/qqp_bert", "glue/wnli_bert", "jglue/jsquad_bert"}


def test_configs_without_mirror_files_are_exactly_the_known_ones(mirror):
    assert {name for name in fine_tuning_configs() if not mirror_files(name)} == NOT_IN_MIRROR


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in fine_tuning_configs() if n not in NOT_IN_MIRROR])
def test_reader_reads_every_mirror_file_of_the_config(name, mirror):
    config = load_json(find_base_config(name))
    read = {}
    for where, block in reader_blocks(config):
        reader = READERS.get(block["dataset"])(**block[block["dataset"]])
        files = [
            block.get("train_file_path"),
            block.get("valid_file_path"),
            *(block.get("extra_valid_file_paths") or {}).values(),
        ]
        for file in filter(None, files):
            if in_mirror(file):
                examples = reader.read(file)  # no limit: every row
                assert examples, f"{name}: {where}: {file} gave no examples"
                ids = [e["id"] for e in examples if isinstance(e, dict) and "id" in e]
                assert len(set(ids)) == len(ids), (
                    f"{name}: {file}: example ids repeat (per-example predictions need them unique)"
                )
                read[file] = (len(examples), reader)
    assert read, f"{name}: none of its files was read"
    if name.startswith("klue/nsmc"):
        assert read["nsmc/ratings_train.txt"][0] == 150000 - 5 and read["nsmc/ratings_test.txt"][0] == 50000 - 3
        assert (
            read["nsmc/ratings_train.txt"][1].skipped_empty == 5 + 3 and read["nsmc/ratings_train.txt"][1].skipped == 0
        )
