"""The benchmark layer without a server: aggregation rules, names, hashes, payloads, the data layer."""

import math

import pytest
from pydantic import ValidationError

from claf.results.payloads import ResultIn, config_hash
from claf.results.queries import choose, combine, parse_step
from claf.results.run_payloads import split_checkpoint_name


def test_seed_aggregation():
    assert combine([3.0, 1.0, 2.0], "median") == {"value": 2.0, "std": None, "n": 3}
    assert combine([1.0, 4.0], "median")["value"] == 2.5
    mean = combine([1.0, 2.0, 3.0, 4.0], "mean")
    assert mean["value"] == 2.5 and math.isclose(mean["std"], 1.2909944487358056) and mean["n"] == 4
    assert combine([5.0], "mean")["std"] == 0.0
    with pytest.raises(ValueError, match="median"):
        combine([1.0], "max")


def test_step_choice_respects_direction():
    per_step = {1000: {"value": 3.0}, 2000: {"value": 1.0}, 3000: {"value": 2.0}}
    assert choose(per_step, "best", True)["step"] == 1000
    assert choose(per_step, "best", False)["step"] == 2000
    assert choose(per_step, "last", True)["step"] == 3000
    assert choose(per_step, 2000, True)["value"] == 1.0 and choose(per_step, 4000, True) is None
    assert parse_step("4k") == 4000 and parse_step("2500") == 2500 and parse_step("best") == "best"
    with pytest.raises(ValueError, match="step"):
        parse_step("later")


def test_checkpoint_names_and_config_hash():
    assert split_checkpoint_name("larva-kor-tiny-4k") == ("larva-kor-tiny", 4000)
    assert split_checkpoint_name("electra-test-0.015k") == ("electra-test", 15)
    assert split_checkpoint_name("electra-test-15") == ("electra-test", 15)  # names below 1k are the step
    assert split_checkpoint_name("/models/larva-kor-small-100k/") == ("larva-kor-small", 100000)
    assert split_checkpoint_name("bert-base-multilingual-cased") == ("bert-base-multilingual-cased", 0)
    a = {"trainer": {"log_dir": "logs/a", "num_epochs": 3}, "seed_num": 1}
    b = {"trainer": {"log_dir": "logs/b", "num_epochs": 3}, "seed_num": 1, "benchmark": {"server": "http://x"}}
    assert config_hash(a) == config_hash(b) != config_hash(dict(a, seed_num=2))


def test_payload_refuses_non_finite_numbers_and_unknown_fields():
    good = {
        "benchmark": "klue",
        "task": "nsmc",
        "checkpoint": {"model": "m", "step": 1},
        "seed": 1,
        "metrics": {"accuracy": 90.0},
        "config": {"a": 1},
    }
    ResultIn.model_validate(good)
    for bad, field in (
        (dict(good, metrics={"accuracy": float("nan")}), "metrics"),
        (dict(good, history=[{"loss": float("inf")}]), "history"),
        (dict(good, checkpoint={"model": "m", "step": -1}), "checkpoint"),
        (dict(good, extra=1), "extra"),
    ):
        with pytest.raises(ValidationError) as e:
            ResultIn.model_validate(bad)
        assert field in str(e.value)


def test_data_layer_puts_are_idempotent(tmp_path):
    from claf.db.engine import open_engine, session_factory
    from claf.results.catalog import migrate
    from claf.results.queries import benchmark_table
    from claf.results.store import Conflict, NotFound, put_result

    engine = open_engine(f"sqlite:///{tmp_path / 'b.sqlite'}")
    migrate(engine)
    migrate(engine)  # a second start is a no-op
    factory = session_factory(engine)
    body = {
        "benchmark": "glue",
        "task": "mrpc",
        "checkpoint": {"model": "m", "step": 1000},
        "seed": 1,
        "metrics": {"f1": 90.0, "accuracy": 86.0},
        "config": {"a": 1},
    }
    first, created = put_result(factory, ResultIn.model_validate(body))
    again, created_again = put_result(factory, ResultIn.model_validate(body))
    assert created and not created_again and first == again
    with pytest.raises(Conflict):
        put_result(factory, ResultIn.model_validate(dict(body, metrics={"f1": 91.0})))
    with pytest.raises(NotFound, match="known tasks: cola, sst2, mrpc"):
        put_result(factory, ResultIn.model_validate(dict(body, task="mrcp")))
    with factory() as session:
        row = {r["model"]: r for r in benchmark_table(session, "glue")["rows"]}["m"]
    assert row["cells"]["mrpc"]["text"] == "90.00/86.00" and row["cells"]["mrpc"]["best"]
    engine.dispose()
