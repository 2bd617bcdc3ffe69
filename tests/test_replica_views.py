"""The table and the step chart's series over pre-training replicas: combined by default, each on demand,
with 95% interval bands; the compare page (the real app in-process, over SQLite)."""

import csv
import io

import numpy as np
import pytest
from bench_support import REPLICAS, noise_bodies, rest_poster, seed_noise


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from bench_support import TOKEN
    from fastapi.testclient import TestClient

    from claf.server.app import create_app

    folder = tmp_path_factory.mktemp("replicas")
    app = create_app(f"sqlite:///{folder}/bench.sqlite", token=TOKEN)
    with TestClient(app) as c:
        seed_noise(rest_poster(c))
        yield c


def get(client, path, **params):
    r = client.get(path, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def rows_of(client, **params):
    table = get(client, "/api/v1/benchmarks/noise/table", **params)
    return table, {r["model"]: r for r in table["rows"] if r["kind"] == "model"}


def expected_band(model_names, step, task="acc"):
    """The band computed here from the posted bodies: the runs in posting order, per-example scores for acc."""
    from claf.stats.bootstrap import estimate
    from claf.stats.runs import Run

    runs = []
    for body in noise_bodies():
        ck = body["checkpoint"]
        if body["task"] == task and ck["model"] in model_names and ck["step"] == step:
            if task == "acc":
                ex = body["examples"]
                right = [100.0 * (p == g) for p, g in zip(ex["predictions"], ex["references"])]
                runs.append(Run(ck["model"], body["seed"], np.array(right), tuple(ex["ids"])))
            else:
                runs.append(Run(ck["model"], body["seed"], np.array([body["metrics"]["f1"]]), ("score",)))
    est = estimate(runs, B=400, rng=0)
    return est["low"], est["high"], est["mean"], len(runs)


def test_the_table_combines_replicas_by_default_and_shows_each_on_demand(client):
    table, rows = rows_of(client, step="2000", seeds="mean")
    assert table["aggregation"]["replicas"] == "combined"
    assert set(rows) == {"tiny", "tiny-random-init"}
    assert rows["tiny-random-init"]["cells"]["acc"] is None  # it has no step 2000
    tiny = rows["tiny"]
    assert tiny["replicas"] == list(REPLICAS) and tiny["options"] == {"size": "tiny"}
    acc = tiny["cells"]["acc"]
    assert acc["n"] == 6 and acc["spread"] == {"replicas": 3, "seeds": 2, "range": acc["spread"]["range"]}
    low, high, mean, n = expected_band(REPLICAS, 2000)
    assert n == 6 and acc["value"] == pytest.approx(mean) and acc["interval"] == pytest.approx([low, high])

    table, rows = rows_of(client, step="2000", seeds="mean", replicas="each")
    assert table["aggregation"]["replicas"] == "each" and set(rows) == {*REPLICAS, "tiny-random-init"}
    for model in REPLICAS:
        cell = rows[model]["cells"]["acc"]
        assert rows[model]["replicas"] == [model] and cell["n"] == 2 and cell["spread"]["replicas"] == 1
        assert cell["interval"] == pytest.approx(expected_band([model], 2000)[:2])

    text = client.get("/api/v1/benchmarks/noise/table.csv", params={"step": "last", "replicas": "each"}).text
    assert {r["model"] for r in csv.DictReader(io.StringIO(text))} == {*REPLICAS, "tiny-random-init"}


def test_the_series_has_bands_from_the_multi_bootstrap(client):
    series = get(client, "/api/v1/benchmarks/noise/tasks/acc/series")
    assert series["replicas"] == "combined" and series["interval"]["level"] == 0.95
    traces = {t["model"]: t for t in series["traces"]}
    assert set(traces) == {"tiny", "tiny-random-init"}
    tiny = traces["tiny"]
    assert tiny["steps"] == [1000, 2000] and tiny["n"] == [6, 6] and tiny["n_replicas"] == [3, 3]
    assert tiny["replicas"] == list(REPLICAS)
    for i, step in enumerate(tiny["steps"]):
        low, high, mean, _n = expected_band(REPLICAS, step)  # replicas x seeds x examples
        assert (tiny["low"][i], tiny["high"][i]) == pytest.approx((low, high))
        assert tiny["values"][i] == pytest.approx(mean) and low < mean < high
    # the table's cell at step 2000 and the chart's band there are one computation
    cell = rows_of(client, step="2000", seeds="mean")[1]["tiny"]["cells"]["acc"]
    assert cell["interval"] == pytest.approx([tiny["low"][1], tiny["high"][1]])
    # every replica's pre-training curve, drawn with the combined line
    assert [(c["model"], c["replica"]) for c in series["pretraining"]] == [("tiny", m) for m in REPLICAS]

    each = get(client, "/api/v1/benchmarks/noise/tasks/acc/series", replicas="each")
    traces = {t["model"]: t for t in each["traces"]}
    assert set(traces) == {*REPLICAS, "tiny-random-init"}
    for model in REPLICAS:
        t = traces[model]
        assert t["n"] == [2, 2] and t["n_replicas"] == [1, 1]
        assert (t["low"][0], t["high"][0]) == pytest.approx(expected_band([model], 1000)[:2])


def test_scores_only_bands_and_single_runs(client):
    series = get(client, "/api/v1/benchmarks/noise/tasks/score/series")
    tiny = {t["model"]: t for t in series["traces"]}["tiny"]
    low, high, _mean, n = expected_band(REPLICAS, 1000, task="score")  # replicas x seeds only
    assert n == 6 and (tiny["low"][0], tiny["high"][0]) == pytest.approx((low, high))
    each = get(client, "/api/v1/benchmarks/noise/tasks/score/series", replicas="each", seeds="median")
    base = {t["model"]: t for t in each["traces"]}["tiny-random-init"]
    assert base["n"] == [2] and base["low"][0] is not None  # two seeds: a band
    # a lone run without examples has nothing to resample: no band, not a zero-width one
    from claf.results.compare import Scored
    from claf.results.series import band

    assert band([("m", 1, Scored(70.0, None))], "f1") is None
    lone = band([("m", 1, Scored(75.0, noise_bodies()[0]["examples"]))], "accuracy")
    assert lone is not None and lone[0] < lone[1]  # one run with examples: resampled over its examples


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/benchmarks/noise/table",
        "/api/v1/benchmarks/noise/table.csv",
        "/api/v1/benchmarks/noise/tasks/acc/series",
    ],
)
def test_a_bad_replicas_option_is_a_400_naming_it(client, path):
    r = client.get(path, params={"replicas": "all"})
    assert r.status_code == 400, r.text
    detail = r.json()["detail"]
    assert detail.startswith("replicas must be 'combined'") and "'all'" in detail and "\n" not in detail


def test_the_compare_page(client):
    page = client.get("/benchmarks/noise/compare", params={"a": "tiny@2k", "b": "random-init"})
    assert page.status_code == 200
    api = get(client, "/api/v1/compare", a="tiny@2k", b="random-init", benchmark="noise")
    verdicts = {r["task"]: r["verdict"] for r in api["tasks"]}
    assert verdicts == {"acc": "better", "score": "no detectable difference"}
    for r in api["tasks"]:
        assert f'data-task="{r["task"]}" data-verdict="{r["verdict"]}"' in page.text
        assert f"[{r['low']:+.2f}, {r['high']:+.2f}]" in page.text
    assert 'id="compare-data"' in page.text and "/static/forest.js" in page.text and "cdn" not in page.text.lower()

    form = client.get("/benchmarks/noise/compare")  # no A and B yet: the form alone
    assert form.status_code == 200 and 'id="forest"' not in form.text and '<option value="tiny">' in form.text
    missing = client.get("/benchmarks/noise/compare", params={"a": "nope@2k", "b": "random-init"})
    assert missing.status_code == 404 and "no results of model &#39;nope&#39;" in missing.text
    bad = client.get("/benchmarks/noise/compare", params={"a": "tiny@2k", "b": "random-init", "draws": 5})
    assert bad.status_code == 400 and "draws must be within" in bad.text

    benchmark_page = client.get("/benchmarks/noise").text  # it links to the comparison of its models
    assert 'href="/benchmarks/noise/compare?a=tiny&b=random-init"' in benchmark_page


def test_a_replicas_identity_is_stored_not_guessed_from_its_name(tmp_path):
    """Models posted with an explicit family and pre-training seed (names that do not spell them) are one
    family in the table and in compare; a name ``<family>-s<seed>`` without them is read as such; a
    different seed for a known model is refused."""
    from bench_support import TOKEN
    from fastapi.testclient import TestClient

    from claf.server.app import create_app

    app = create_app(f"sqlite:///{tmp_path}/bench.sqlite", token=TOKEN)
    with TestClient(app) as c:
        post = rest_poster(c)
        assert post("/api/v1/benchmarks/noise", __import__("bench_support").NOISE, "put").status_code in (200, 201)
        named = {"tiny-s1": "alpha", "tiny-s2": "beta", "tiny-s3": "tiny-s3"}  # the third keeps its name
        for body in noise_bodies():
            model = body["checkpoint"]["model"]
            if model in named:
                seed = int(model[-1])
                extra = {"family": "tiny", "pretrain_seed": seed} if named[model] != model else {}
                body = dict(body, checkpoint=dict(body["checkpoint"], model=named[model], **extra))
            r = post("/api/v1/results", body, "post")
            assert r.status_code in (200, 201), r.text
        rows = {r["model"]: r for r in get(c, "/api/v1/benchmarks/noise/table", step="2000")["rows"]}
        assert rows["tiny"]["replicas"] == ["alpha", "beta", "tiny-s3"]
        report = get(c, "/api/v1/compare", a="tiny@2000", b="random-init", benchmark="noise")
        assert report["tasks"][0]["a"]["n"][0] == 3  # three replicas found by their stored family
        clash = {"model": "alpha", "step": 1000, "family": "tiny", "pretrain_seed": 9}
        r = post("/api/v1/checkpoints", clash, "post")
        assert r.status_code == 409 and "pretrain_seed" in r.text


def test_pretraining_payloads_and_the_index_carry_the_replica_identity():
    from claf.hub.index import identity, replica_fields

    assert replica_fields({"name": "larva-kor-tiny-s43", "seed_num": 43}) == {
        "family": "larva-kor-tiny",
        "pretrain_seed": 43,
    }
    # a recipe named like a replica whose seed differs is its own family, with its real seed
    assert replica_fields({"name": "run-s2", "seed_num": 42}) == {"family": "run-s2", "pretrain_seed": 42}
    assert replica_fields({"name": "larva-kor-tiny", "seed_num": 42}) == {
        "family": "larva-kor-tiny",
        "pretrain_seed": 42,
    }
    assert identity("tiny-s7") == ("tiny", 7) and identity("tiny") == ("tiny", None)


def test_the_migration_fills_family_and_seed_of_existing_models(tmp_path):
    """A database at revision 0006 with replica-named models gets family/pretrain_seed from their names."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, text

    from claf.db.engine import MIGRATIONS

    engine = create_engine(f"sqlite:///{tmp_path}/old.sqlite")

    def upgrade(to):
        with engine.begin() as conn:
            cfg = Config()
            cfg.set_main_option("script_location", str(MIGRATIONS))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, to)

    upgrade("0006")
    with engine.begin() as conn:
        for i, name in enumerate(["tiny-s1", "tiny-s2", "plain", "x-s"]):
            conn.execute(text("INSERT INTO models (id, name, options) VALUES (:i, :n, '{}')"), {"i": i + 1, "n": name})
    upgrade("head")
    with engine.connect() as conn:
        got = conn.execute(text("SELECT name, family, pretrain_seed FROM models ORDER BY id")).all()
    assert [tuple(r) for r in got] == [
        ("tiny-s1", "tiny", 1),
        ("tiny-s2", "tiny", 2),
        ("plain", "plain", None),
        ("x-s", "x-s", None),
    ]
