"""claf.hub: download cache, safe archives and resolve_pretrained, against a real local HTTP server."""

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from claf.hub.archive import pack, safe_extract
from claf.hub.cache import HubError, download, read_checksum, sha256_file
from claf.hub.resolve import resolve_pretrained


@pytest.fixture
def cache(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setenv("CLAF_CACHE", str(root))
    return root


def make_model_dir(path):
    (path / "sub").mkdir(parents=True)
    (path / "config.json").write_text(json.dumps({"hidden_size": 8}), encoding="utf-8")
    (path / "sub" / "vocab.txt").write_text("[PAD]\n[UNK]\n가\n", encoding="utf-8")
    return path


def write_tar(path, entries):
    """entries: (TarInfo, bytes or None) pairs written as given (no sanitising)."""
    with tarfile.open(path, "w:gz") as tar:
        for info, data in entries:
            if data is not None:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return path


def file_info(name):
    return tarfile.TarInfo(name)


def link_info(name, target, kind):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


def test_download_once_then_reuse(server, tmp_path):
    payload = b"weights " * 1000
    (server.root / "w.bin").write_bytes(payload)
    dest = tmp_path / "dl" / "w.bin"
    digest = hashlib.sha256(payload).hexdigest()

    assert download(f"{server.url}/w.bin", dest, sha256=digest) == dest
    assert dest.read_bytes() == payload
    assert read_checksum(dest) == digest
    assert download(f"{server.url}/w.bin", dest, sha256=digest) == dest
    assert download(f"{server.url}/w.bin", dest) == dest
    assert server.hits == ["/w.bin"]

    dest.write_bytes(b"damaged")  # a changed file no longer matches its checksum file
    download(f"{server.url}/w.bin", dest)
    assert dest.read_bytes() == payload
    assert len(server.hits) == 2


def test_download_checksum_mismatch_leaves_nothing(server, tmp_path):
    (server.root / "w.bin").write_bytes(b"real bytes")
    dest = tmp_path / "dl" / "w.bin"
    url = f"{server.url}/w.bin"
    with pytest.raises(HubError) as err:
        download(url, dest, sha256="0" * 64)
    message = str(err.value)
    assert "\n" not in message
    assert url in message and "0" * 64 in message
    assert hashlib.sha256(b"real bytes").hexdigest() in message
    assert not dest.exists()
    assert list(dest.parent.iterdir()) == []


def test_download_http_error_and_file_url(server, tmp_path):
    url = f"{server.url}/missing.bin"
    with pytest.raises(HubError, match="missing.bin") as err:
        download(url, tmp_path / "dl" / "missing.bin")
    assert "\n" not in str(err.value)
    assert not (tmp_path / "dl" / "missing.bin").exists()

    source = tmp_path / "local.bin"
    source.write_bytes(b"local")
    dest = download(source.as_uri(), tmp_path / "dl" / "local.bin")
    assert dest.read_bytes() == b"local"
    assert read_checksum(dest) == sha256_file(source)


def test_pack_and_safe_extract_round_trip(tmp_path):
    src = make_model_dir(tmp_path / "src")
    archive = pack(src, tmp_path / "out" / "larva-kor-tiny-2k.tar.gz")
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert names and all(n == "larva-kor-tiny-2k" or n.startswith("larva-kor-tiny-2k/") for n in names)
    assert "larva-kor-tiny-2k/config.json" in names
    assert [p.name for p in archive.parent.iterdir()] == [archive.name]  # no temp file left

    dest = tmp_path / "extracted"
    model = safe_extract(archive, dest)
    assert model == dest / "larva-kor-tiny-2k"
    assert (model / "config.json").read_bytes() == (src / "config.json").read_bytes()
    assert (model / "sub" / "vocab.txt").read_bytes() == (src / "sub" / "vocab.txt").read_bytes()

    archive.unlink()  # a complete extraction is reused without the archive
    assert safe_extract(archive, dest) == model


def test_safe_extract_without_single_top_folder(tmp_path):
    entries = [(file_info("config.json"), b"{}"), (file_info("vocab.txt"), b"a\n")]
    archive = write_tar(tmp_path / "flat.tar.gz", entries)
    dest = tmp_path / "flat"
    assert safe_extract(archive, dest) == dest
    assert (dest / "config.json").read_bytes() == b"{}"


@pytest.mark.parametrize(
    "member, data",
    [
        (file_info("../x"), b"evil"),
        (file_info("model/../../x"), b"evil"),
        (file_info("/tmp/abs-x"), b"evil"),
        (link_info("model/link", "/etc/passwd", tarfile.SYMTYPE), None),
        (link_info("model/hard", "model/config.json", tarfile.LNKTYPE), None),
        (link_info("model/fifo", "", tarfile.FIFOTYPE), None),
    ],
)
def test_safe_extract_rejects_unsafe_members(tmp_path, member, data):
    archive = write_tar(tmp_path / "bad.tar.gz", [(file_info("model/config.json"), b"{}"), (member, data)])
    dest = tmp_path / "out" / "bad"
    with pytest.raises(HubError) as err:
        safe_extract(archive, dest)
    message = str(err.value)
    assert "\n" not in message
    assert str(archive) in message and repr(member.name) in message
    assert not dest.exists()
    assert list((tmp_path / "out").iterdir()) == []  # temp folder removed
    assert not (tmp_path / "x").exists()


def test_safe_extract_damaged_archive(tmp_path):
    archive = tmp_path / "broken.tar.gz"
    archive.write_bytes(b"this is not gzip")
    with pytest.raises(HubError, match="broken.tar.gz") as err:
        safe_extract(archive, tmp_path / "out")
    assert "\n" not in str(err.value)
    assert not (tmp_path / "out").exists()


def test_resolve_directory_and_hub_names(tmp_path, cache):
    """A hub name resolves when the Hugging Face cache (or the hub) has it; else one line, no OSError later."""
    import os
    import subprocess
    import sys

    model = make_model_dir(tmp_path / "model")
    assert resolve_pretrained(str(model)) == str(model)
    hf_cache = tmp_path / "hf"  # the real huggingface_hub cache layout, holding klue/bert-base only
    snapshot = hf_cache / "models--klue--bert-base" / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    (hf_cache / "models--klue--bert-base" / "refs").mkdir()
    (hf_cache / "models--klue--bert-base" / "refs" / "main").write_text("0123abcd")
    code = (
        "from claf.hub.resolve import resolve_pretrained\nfrom claf.hub.cache import HubError\n"
        "for name in ('klue/bert-base', 'bert-base-uncased'):\n"
        "    try:\n        print(name, '->', resolve_pretrained(name))\n"
        "    except HubError as e:\n        print(name, 'error:', e)\n"
    )
    env = {
        **os.environ,
        "HF_HUB_CACHE": str(hf_cache),
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    lines = out.splitlines()
    assert lines[0] == "klue/bert-base -> klue/bert-base"
    assert lines[1].startswith("bert-base-uncased error: pretrained model 'bert-base-uncased' not found")
    assert "Hugging Face hub" in lines[1] and len(lines) == 2
    assert not cache.exists()


def test_resolve_local_archive(tmp_path, cache):
    archive = pack(make_model_dir(tmp_path / "src"), tmp_path / "tiny.tar.gz")
    first = resolve_pretrained(str(archive))
    expected = cache / "models" / sha256_file(archive)[:16] / "tiny"
    assert first == str(expected)
    assert (expected / "config.json").is_file()
    assert resolve_pretrained(str(archive)) == first


def test_resolve_url_downloads_and_extracts_once(server, tmp_path, cache):
    pack(make_model_dir(tmp_path / "src"), server.root / "larva-kor-tiny-2k.tar.gz")
    url = f"{server.url}/larva-kor-tiny-2k.tar.gz"
    model = resolve_pretrained(url)
    assert model.endswith("larva-kor-tiny-2k")
    assert json.loads((Path(model) / "config.json").read_text(encoding="utf-8")) == {"hidden_size": 8}
    assert len(server.hits) == 1
    assert resolve_pretrained(url) == model
    assert len(server.hits) == 1
    assert str(cache / "models") in model


def test_resolve_errors(tmp_path, cache, server):
    for missing in (str(tmp_path / "nope"), "./nope-model", "~/nope-model-claf", "nope.tar.gz"):
        with pytest.raises(HubError) as err:
            resolve_pretrained(missing)
        message = str(err.value)
        assert f"pretrained model '{missing}' not found" in message
        assert "give a model directory, a .tar.gz, a URL or a hub name" in message
    (server.root / "model.bin").write_bytes(b"x")
    with pytest.raises(HubError, match="model.bin"):
        resolve_pretrained(f"{server.url}/model.bin")
    assert server.hits == []  # refused before downloading
    with pytest.raises(HubError, match="unsupported URL scheme"):
        resolve_pretrained("ftp://host/model.tar.gz")  # s3:// is supported: see test_hub_stores.py
