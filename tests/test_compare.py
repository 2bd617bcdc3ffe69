"""claf compare: A vs B from stored results with per-example predictions, by the multi-bootstrap."""

import json

import numpy as np
import pytest

from claf.db.engine import open_engine, session_factory
from claf.results.catalog import migrate
from claf.results.compare import compare_models, format_table, parse_target, replica_of
from claf.results.payloads import ResultIn
from claf.results.store import NotFound, put_result

N = 300  # dev examples per task


def _examples(rng, truth, accuracy):
    """Predictions right with probability ``accuracy`` (per example, shared difficulty shifts it)."""
    right = rng.random(N) < accuracy
    predictions = [t if ok else 1 - t for t, ok in zip(truth, right)]
    return {
        "ids": [f"e{i}" for i in range(N)],
        "predictions": predictions,
        "references": truth,
        "metrics": ["accuracy"],
    }


def _sts_examples(rng, gold, noise):
    predictions = [round(g + float(rng.normal(0, noise)), 4) for g in gold]
    return {"ids": [f"s{i}" for i in range(N)], "predictions": predictions, "references": gold, "metrics": ["spearman"]}


def _post(factory, model, step, seed, task, examples, metric_value_key):
    from claf.metrics.spec import metric_function

    score = metric_function(examples["metrics"][0])(examples["predictions"], examples["references"])[metric_value_key]
    body = {
        "benchmark": "klue",
        "task": task,
        "checkpoint": {"model": model, "step": step, "name": f"{model}-{step}"},
        "seed": seed,
        "metrics": {metric_value_key: score},
        "config_hash": "0123456789abcdef",
        "examples": examples,
    }
    put_result(factory, ResultIn(**body))


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    folder = tmp_path_factory.mktemp("compare")
    url = f"sqlite:///{folder}/bench.sqlite"
    engine = open_engine(url)
    migrate(engine)
    factory = session_factory(engine)
    rng = np.random.default_rng(7)
    truth = [int(x) for x in rng.integers(0, 2, N)]
    gold = [round(float(x), 3) for x in rng.uniform(0, 5, N)]
    for r, replica in enumerate(("tiny", "tiny-s43", "tiny-s44")):
        for seed in (42, 43, 44):
            # nsmc: the pre-trained replicas are clearly better; qp: no difference at all
            _post(factory, replica, 8000, seed, "nsmc", _examples(rng, truth, 0.85 + 0.01 * r), "accuracy")
            _post(factory, replica, 8000, seed, "qp", _examples(rng, truth, 0.70), "accuracy")
            _post(factory, replica, 8000, seed, "korsts", _sts_examples(rng, gold, 0.8), "spearman")
    for seed in (42, 43, 44):
        _post(factory, "tiny-random-init", 0, seed, "nsmc", _examples(rng, truth, 0.60), "accuracy")
        _post(factory, "tiny-random-init", 0, seed, "qp", _examples(rng, truth, 0.70), "accuracy")
        _post(factory, "tiny-random-init", 0, seed, "korsts", _sts_examples(rng, gold, 0.8), "spearman")
    return url, factory


def test_targets_and_replicas():
    assert parse_target("larva-kor-tiny@8k") == ("larva-kor-tiny", 8000)
    assert parse_target("larva-kor-tiny@8000") == ("larva-kor-tiny", 8000)
    assert parse_target("larva-kor-tiny") == ("larva-kor-tiny", None)
    assert parse_target("random-init", "larva-kor-tiny") == ("larva-kor-tiny-random-init", 0)
    with pytest.raises(ValueError, match="step"):
        parse_target("larva-kor-tiny@eight")
    assert replica_of("tiny-s43", "tiny") == "tiny-s43" and replica_of("tiny", "tiny") == "tiny"
    assert replica_of("tiny-random-init", "tiny") is None and replica_of("tinyx-s4", "tiny") is None


def test_compare_says_better_where_it_is_and_no_difference_where_it_is_not(db):
    _url, factory = db
    with factory() as session:
        report = compare_models(session, "tiny@8k", "random-init", "klue", B=600)
    rows = {r["task"]: r for r in report["tasks"]}
    assert set(rows) == {"nsmc", "qp", "korsts"}
    nsmc, qp, sts = rows["nsmc"], rows["qp"], rows["korsts"]
    assert nsmc["verdict"] == "better" and nsmc["low"] > 15 and nsmc["p_a_better"] == 1.0
    assert nsmc["a"]["n"] == [3, 3, N] and nsmc["b"]["n"] == [1, 3, N]
    assert nsmc["paired_examples"] and nsmc["examples_resampled"]
    assert qp["verdict"] == "no detectable difference" and qp["low"] < 0 < qp["high"]
    assert 0.05 < qp["p_a_better"] < 0.95
    assert sts["verdict"] == "no detectable difference"  # spearman recomputed on resampled examples
    assert report["average"]["tasks"] == ["korsts", "nsmc", "qp"]
    assert report["average"]["low"] < nsmc["delta"] / 3 < report["average"]["high"]


def test_unknown_models_and_steps_are_one_line(db):
    _url, factory = db
    with factory() as session, pytest.raises(NotFound, match="no results of model 'nope'.*; its models: tiny, "):
        compare_models(session, "nope@8k", "random-init", "klue")
    # a checkpoint whose random init goes by another name: the error names the baselines there are
    hint = "no results of model 'tiny-s43-random-init'.*its random-init baselines: tiny-random-init: give one by name"
    with factory() as session, pytest.raises(NotFound, match=hint):
        compare_models(session, "tiny-s43@8k", "random-init", "klue")
    with factory() as session, pytest.raises(NotFound, match="its steps: \\[8000\\]"):
        compare_models(session, "tiny@4k", "random-init", "klue")


def test_the_command_and_the_rest_endpoint_agree(db, capsys, tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from claf.commands import main
    from claf.server.app import create_app

    url, _factory = db
    monkeypatch.setenv("CLAF_HOME", str(tmp_path))
    assert main(["compare", "tiny@8k", "random-init", "--db", url, "--draws", "300", "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    api = TestClient(create_app(url, token="t")).get(
        "/api/v1/compare", params={"a": "tiny@8k", "b": "random-init", "draws": 300}
    )
    assert api.status_code == 200
    assert api.json()["tasks"] == cli["tasks"]  # the same draws: the same numbers
    assert main(["compare", "tiny@8k", "random-init", "--db", url, "--draws", "300"]) == 0
    table = capsys.readouterr().out
    assert "| nsmc (accuracy) |" in table and "better" in table and "no detectable difference" in table


def test_a_result_without_examples_is_stored_as_before():
    body = {
        "checkpoint": {"model": "m", "step": 1},
        "seed": 1,
        "metrics": {"accuracy": 50.0},
        "config_hash": "0123456789abcdef",
    }
    plain = ResultIn(**body)
    assert "examples" not in plain.body()  # its stored checksum is what it was before examples existed
    with pytest.raises(ValueError, match="one of each per example"):
        ResultIn(
            **body, examples={"ids": ["a", "b"], "predictions": [1], "references": [1, 0], "metrics": ["accuracy"]}
        )


def test_the_table_shows_what_a_checkpoint_cost(tmp_path):
    from claf.results.queries import benchmark_table

    engine = open_engine(f"sqlite:///{tmp_path}/cost.sqlite")
    migrate(engine)
    factory = session_factory(engine)
    for task in ("nsmc", "qp"):
        for seed, seconds in ((1, 10.5), (2, 12.0)):
            body = {
                "benchmark": "klue",
                "task": task,
                "checkpoint": {"model": "m", "step": 1000, "name": "m-1k"},
                "seed": seed,
                "metrics": {"accuracy": 50.0 + seed},
                "config_hash": "0123456789abcdef",
                "provenance": {"cpu_seconds": seconds, "device_kind": "cpu AVX2, bf16: none"},
            }
            put_result(factory, ResultIn(**body))
    with factory() as session:
        table = benchmark_table(session, "klue", step="last")
    [row] = [r for r in table["rows"] if r["model"] == "m"]
    assert row["cost"] == {"cpu_seconds": 45.0, "results": 4, "of": 4}  # 2 tasks x 2 seeds


def test_the_table_bolds_only_what_stands_out_of_the_noise(db):
    from claf.results.queries import benchmark_table

    _url, factory = db
    with factory() as session:
        table = benchmark_table(session, "klue", step="last", replicas="each")
        combined = benchmark_table(session, "klue", step="last")
    rows = {r["model"]: r["cells"] for r in table["rows"] if r["kind"] == "model"}
    assert set(rows) == {"tiny", "tiny-s43", "tiny-s44", "tiny-random-init"}
    # by default a model's replicas share one row: 3 replicas x 3 seeds, far above random init on nsmc
    both = {r["model"]: r["cells"] for r in combined["rows"] if r["kind"] == "model"}
    assert set(both) == {"tiny", "tiny-random-init"}
    assert both["tiny"]["nsmc"]["n"] == 9 and both["tiny"]["nsmc"]["spread"]["replicas"] == 3
    assert both["tiny"]["nsmc"]["best"] and not both["tiny"]["nsmc"].get("tied")
    for cells in rows.values():
        nsmc = cells["nsmc"]
        assert nsmc["spread"]["replicas"] == 1 and nsmc["spread"]["seeds"] == 3
        assert nsmc["interval"][0] <= nsmc["value"] + 1e-9 and nsmc["interval"][1] >= nsmc["value"] - 1e-9
    # qp: every model at 70%, so the top score is noise: no bold, every cell tied with it
    assert not any(c["qp"]["best"] for c in rows.values())
    assert all(c["qp"].get("tied") for c in rows.values())
    # nsmc: the random-init row is far below; replicas 1 point apart cannot be told apart from the best
    assert not rows["tiny-random-init"]["nsmc"].get("tied") and not rows["tiny-random-init"]["nsmc"]["best"]
    top = [m for m, c in rows.items() if c["nsmc"]["best"] or c["nsmc"].get("tied")]
    assert "tiny-random-init" not in top and len(top) >= 1
    assert all(not (c["nsmc"]["best"] and c["nsmc"].get("tied")) for c in rows.values())


def test_repeated_stored_ids_line_up_by_occurrence():
    from claf.results.compare import unique_ids

    assert unique_ids(["0000", "0002", "0000", "0000", 7, 7]) == ("0000", "0002", "0000#2", "0000#3", 7, "7#2")


def test_b_can_come_from_a_second_database(db, capsys, tmp_path):
    import sqlite3

    from claf.commands import main

    url, _factory = db
    copy = tmp_path / "other.sqlite"
    with sqlite3.connect(url.removeprefix("sqlite:///")) as source, sqlite3.connect(copy) as target:
        source.backup(target)  # the whole database, its write-ahead log included
    args = ["--draws", "300", "--json"]
    assert main(["compare", "tiny@8k", "random-init", "--db", url, *args]) == 0
    one = json.loads(capsys.readouterr().out)
    assert main(["compare", "tiny@8k", "tiny-random-init", "--db", url, "--db-b", f"sqlite:///{copy}", *args]) == 0
    two = json.loads(capsys.readouterr().out)
    assert two["tasks"] == one["tasks"] and two["average"] == one["average"]  # the same results, read from B's file
    assert two["b"] == {"model": "tiny-random-init", "step": 0, "db": f"sqlite:///{copy}"}
    assert not two["average"]["paired_replicas"]  # two models: their replicas are never drawn as one
    # one model against itself from B's file (another protocol's runs): its replicas are drawn once for both
    assert main(["compare", "tiny@8k", "tiny@8k", "--db", url, "--db-b", f"sqlite:///{copy}", *args]) == 0
    itself = json.loads(capsys.readouterr().out)
    assert itself["average"]["paired_replicas"] and all(t["paired_replicas"] for t in itself["tasks"])
    assert itself["average"]["delta"] == 0 and itself["average"]["low"] < 0 < itself["average"]["high"]
    assert "picks the same replicas for both" in format_table(itself)
    with sqlite3.connect(copy) as conn:  # B's database scores korsts by another metric: no comparison
        conn.execute("UPDATE tasks SET metric = 'pearson' WHERE name = 'korsts'")
    assert main(["compare", "tiny@8k", "tiny-random-init", "--db", url, "--db-b", f"sqlite:///{copy}"]) == 1
    assert (
        "task 'korsts' of 'klue' is scored by spearman in A's database and by pearson in B's" in capsys.readouterr().err
    )
    assert main(["compare", "tiny@8k", "random-init", "--server", "http://127.0.0.1:9", "--db-b", url]) == 2
    assert "--db-b reads B from a database" in capsys.readouterr().err


def test_a_database_holding_two_protocols_of_a_task_is_refused_by_name(db, capsys, tmp_path):
    """A suite run again with another head option files its results beside the first ones (another config
    hash); pooled, each such run would count twice. The command names the task, run and both configs."""
    import sqlite3

    from claf.commands import main

    url, _factory = db
    copy = tmp_path / "two_protocols.sqlite"
    with sqlite3.connect(url.removeprefix("sqlite:///")) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    engine = open_engine(f"sqlite:///{copy}")
    rng = np.random.default_rng(3)
    gold = [round(float(x), 3) for x in rng.uniform(0, 5, N)]
    examples = _sts_examples(rng, gold, 0.5)
    from claf.metrics.spec import metric_function

    score = metric_function("spearman")(examples["predictions"], examples["references"])["spearman"]
    body = {
        "benchmark": "klue",
        "task": "korsts",
        "checkpoint": {"model": "tiny-s43", "step": 8000, "name": "tiny-s43-8000"},
        "seed": 43,
        "metrics": {"spearman": score},
        "config_hash": "fedcba9876543210",  # the same run under a second protocol
        "examples": examples,
    }
    put_result(session_factory(engine), ResultIn(**body))
    assert main(["compare", "tiny@8k", "random-init", "--db", f"sqlite:///{copy}", "--draws", "200"]) == 1
    err = capsys.readouterr().err
    assert "task 'korsts': tiny-s43 seed 43 has results under two configs (0123456789ab and fedcba987654)" in err
    assert "run each into its own database and compare them with --db and --db-b" in err
    assert main(["compare", "tiny@8k", "random-init", "--db", url, "--draws", "200"]) == 0  # the first is untouched
    capsys.readouterr()


def test_several_databases_pool_a_models_replicas(db, capsys, tmp_path):
    import sqlite3

    from claf.commands import main

    url, _factory = db
    parts = {}
    for part, drop in (("first", ("tiny-s43", "tiny-s44")), ("confirm", ("tiny", "tiny-random-init"))):
        parts[part] = tmp_path / f"{part}.sqlite"
        with sqlite3.connect(url.removeprefix("sqlite:///")) as source, sqlite3.connect(parts[part]) as target:
            source.backup(target)
        with sqlite3.connect(parts[part]) as conn:  # this database holds only some of the replicas
            marks = ",".join("?" * len(drop))
            conn.execute(
                "DELETE FROM results WHERE checkpoint_id IN (SELECT c.id FROM checkpoints c JOIN models m "
                f"ON m.id = c.model_id WHERE m.name IN ({marks}))",
                drop,
            )
    args = ["--draws", "300", "--json"]
    assert main(["compare", "tiny@8k", "random-init", "--db", url, *args]) == 0
    whole = json.loads(capsys.readouterr().out)
    assert main(["compare", "tiny@8k", "random-init", "--db", f"sqlite:///{parts['first']}", *args]) == 0
    alone = json.loads(capsys.readouterr().out)
    pooled_args = ["--db", f"sqlite:///{parts['first']}", "--db", f"sqlite:///{parts['confirm']}", *args]
    assert main(["compare", "tiny@8k", "random-init", *pooled_args]) == 0
    pooled = json.loads(capsys.readouterr().out)
    # the replicas of both databases, as one database holding them all: the same means and n
    assert [t["a"] for t in pooled["tasks"]] == [t["a"] for t in whole["tasks"]]
    assert [t["delta"] for t in pooled["tasks"]] == pytest.approx([t["delta"] for t in whole["tasks"]])
    assert pooled["average"]["delta"] == pytest.approx(whole["average"]["delta"])
    assert all(t["a"]["n"][0] == 3 for t in pooled["tasks"]) and all(t["a"]["n"][0] == 1 for t in alone["tasks"])
    assert pooled["a"]["db"] == [f"sqlite:///{parts['first']}", f"sqlite:///{parts['confirm']}"]
    assert "pooled over" in format_table(pooled)
    # a replica in two of the databases would count twice: refused
    assert main(["compare", "tiny@8k", "random-init", "--db", url, "--db", f"sqlite:///{parts['confirm']}"]) == 1
    assert "tiny-s43" in capsys.readouterr().err
    # a model in none of them is named as missing; a step that none holds is an error, not an empty side
    assert main(["compare", "nope@8k", "random-init", *pooled_args]) == 1
    assert "no results of model 'nope'" in capsys.readouterr().err
    assert main(["compare", "tiny@9k", "random-init", *pooled_args]) == 1
    assert "has no results at step 9000" in capsys.readouterr().err


def test_one_model_at_two_steps_pairs_replicas_only_where_both_hold_them(db, tmp_path):
    import sqlite3

    url, _factory = db
    copy = tmp_path / "steps.sqlite"
    with sqlite3.connect(url.removeprefix("sqlite:///")) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    factory = session_factory(open_engine(f"sqlite:///{copy}"))
    rng = np.random.default_rng(7)  # the fixture's dev set: its golds come first from this seed
    truth = [int(x) for x in rng.integers(0, 2, N)]
    gold = [round(float(x), 3) for x in rng.uniform(0, 5, N)]
    for seed in (42, 43, 44):  # an earlier checkpoint of the first replica only
        _post(factory, "tiny", 4000, seed, "nsmc", _examples(rng, truth, 0.80), "accuracy")
        _post(factory, "tiny", 4000, seed, "qp", _examples(rng, truth, 0.70), "accuracy")
        _post(factory, "tiny", 4000, seed, "korsts", _sts_examples(rng, gold, 0.8), "spearman")
    with factory() as session:
        report = compare_models(session, "tiny@8k", "tiny@4k", "klue", B=200)
    assert report["b"]["step"] == 4000 and report["tasks"][0]["b"]["n"][0] == 1
    assert not any(t["paired_replicas"] for t in report["tasks"]) and not report["average"]["paired_replicas"]
