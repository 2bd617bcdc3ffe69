"""claf.data.sources: the real offline mirror, corrupt copies, and downloads from a local HTTP server."""

import gzip
import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import MIRROR

from claf.data.sources import DataFileError, load_manifest, open_text, resolve_data_file
from claf.hub.cache import read_checksum, sha256_file

needs_mirror = pytest.mark.usefixtures("mirror")  # fails, never skips, without the mirror


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    """An empty data root, no mirror and a private cache."""
    root = tmp_path / "root"
    root.mkdir()
    monkeypatch.setenv("CLAF_DATA_ROOT", str(root))
    monkeypatch.setenv("CLAF_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("CLAF_DATA_MIRROR", raising=False)
    return root


@needs_mirror
def test_real_mirror_file_resolves_and_verifies(data_root, monkeypatch):
    monkeypatch.setenv("CLAF_DATA_MIRROR", str(MIRROR))
    resolved = resolve_data_file("nsmc/ratings_test.txt")
    assert resolved == MIRROR / "nsmc" / "ratings_test.txt"
    assert sha256_file(resolved) == load_manifest()["nsmc/ratings_test.txt"]["sha256"]
    with open_text("nsmc/ratings_test.txt") as f:
        assert f.readline().rstrip("\n").split("\t") == ["id", "document", "label"]
    assert list(data_root.iterdir()) == []  # nothing downloaded or copied


@needs_mirror
def test_corrupt_mirror_copy_is_refused(data_root, tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    copy = mirror / "pawsx_ko" / "dev_2k.tsv"
    copy.parent.mkdir(parents=True)
    shutil.copyfile(MIRROR / "pawsx_ko" / "dev_2k.tsv", copy)
    monkeypatch.setenv("CLAF_DATA_MIRROR", str(mirror))
    assert resolve_data_file("pawsx_ko/dev_2k.tsv") == copy  # an intact copy verifies

    data = bytearray(copy.read_bytes())
    data[100] ^= 0x01
    copy.write_bytes(bytes(data))
    with pytest.raises(DataFileError) as err:
        resolve_data_file("pawsx_ko/dev_2k.tsv")
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{copy}: checksum mismatch (expected ")
    assert hashlib.sha256(bytes(data)).hexdigest() in message
    assert "unset CLAF_DATA_MIRROR" in message


def test_mirror_without_the_file_falls_back_to_data_root(data_root, tmp_path, monkeypatch):
    monkeypatch.setenv("CLAF_DATA_MIRROR", str(tmp_path / "empty-mirror"))
    target = data_root / "toy" / "a.txt"
    target.parent.mkdir()
    target.write_bytes(b"a\tb\n")
    manifest = {"toy/a.txt": {"url": None, "sha256": hashlib.sha256(b"a\tb\n").hexdigest()}}
    assert resolve_data_file("toy/a.txt", manifest=manifest) == target
    assert read_checksum(target) == manifest["toy/a.txt"]["sha256"]  # recorded after the fresh hash

    target.write_bytes(b"a\tX\n")  # same size, different bytes, no URL to repair from
    with pytest.raises(DataFileError, match=re.escape(f"{target}: checksum mismatch")):
        resolve_data_file("toy/a.txt", manifest=manifest)


def test_missing_file_message(data_root, tmp_path, monkeypatch):
    monkeypatch.setenv("CLAF_DATA_MIRROR", str(tmp_path / "mirror"))
    with pytest.raises(DataFileError) as err:
        resolve_data_file("nope/unknown.txt")
    message = str(err.value)
    assert isinstance(err.value, FileNotFoundError)
    assert "\n" not in message
    assert message.startswith("data file 'nope/unknown.txt' not found (looked in: ")
    assert str(tmp_path / "mirror" / "nope" / "unknown.txt") in message
    assert f"put the file at {data_root / 'nope' / 'unknown.txt'}" in message
    assert "set CLAF_DATA_MIRROR" in message


def test_download_once_into_data_root(data_root, server):
    payload = "질문1\t질문2\t0\n".encode() * 50
    (server.root / "pairs.txt").write_bytes(payload)
    digest = hashlib.sha256(payload).hexdigest()
    manifest = {"toy/pairs.txt": {"url": f"{server.url}/pairs.txt", "sha256": digest}}

    resolved = resolve_data_file("toy/pairs.txt", manifest=manifest)
    assert resolved == data_root / "toy" / "pairs.txt"
    assert resolved.read_bytes() == payload
    assert read_checksum(resolved) == manifest["toy/pairs.txt"]["sha256"]
    assert resolve_data_file("toy/pairs.txt", manifest=manifest) == resolved
    assert server.hits == ["/pairs.txt"]
    with open_text("toy/pairs.txt", manifest=manifest) as f:
        assert f.readline() == "질문1\t질문2\t0\n"


def test_download_with_wrong_checksum_is_refused(data_root, server):
    (server.root / "pairs.txt").write_bytes(b"served bytes\n")
    manifest = {"toy/pairs.txt": {"url": f"{server.url}/pairs.txt", "sha256": "ab" * 32}}
    with pytest.raises(DataFileError) as err:
        resolve_data_file("toy/pairs.txt", manifest=manifest)
    message = str(err.value)
    assert "\n" not in message
    assert f"{server.url}/pairs.txt: checksum mismatch (expected {'ab' * 32}, got " in message
    assert not (data_root / "toy" / "pairs.txt").exists()
    assert [p.name for p in (data_root / "toy").iterdir()] == []


def test_existing_paths_and_gzip(data_root, tmp_path, monkeypatch):
    plain = tmp_path / "plain.txt"
    plain.write_text("안녕\n", encoding="utf-8")
    packed = tmp_path / "packed.json.gz"
    with gzip.open(packed, "wt", encoding="utf-8") as f:
        f.write('{"data": []}\n')
    assert resolve_data_file(str(plain)) == plain
    with open_text(str(packed)) as f:
        assert f.read() == '{"data": []}\n'

    monkeypatch.chdir(tmp_path)
    assert resolve_data_file("plain.txt") == Path("plain.txt")
    with pytest.raises(DataFileError, match="is a directory"):
        resolve_data_file(str(tmp_path))
    with pytest.raises(DataFileError, match="not found"):
        resolve_data_file(str(tmp_path / "absent.txt"))


def test_manifest_entries_are_well_formed():
    manifest = load_manifest()
    assert "nsmc/ratings_train.txt" in manifest and "squad/train-v1.1.json" in manifest
    for name, entry in manifest.items():
        assert (
            {"url", "sha256"}
            <= set(entry)
            <= {"url", "sha256", "mirror_name", "mirror_sha256", "archive_member", "archive_sha256"}
        ), name
        assert not name.startswith(("/", ".")) and ".." not in name.split("/"), name
        for key in ("sha256", "mirror_sha256"):
            assert entry.get(key) is None or re.fullmatch(r"[0-9a-f]{64}", entry[key]), name
        assert entry["url"] is None or entry["url"].startswith("https://"), name
    assert manifest["squad/dev-v1.1.rebuilt.json.gz"]["url"] is None
    assert manifest["korquad/KorQuAD_v1.0_train.json"]["sha256"] is None


def test_mirror_name_alias_reads_the_rebuilt_squad_dev(monkeypatch):
    monkeypatch.setenv("CLAF_DATA_MIRROR", str(MIRROR))
    resolved = resolve_data_file("squad/dev-v1.1.json")
    assert resolved == MIRROR / "squad" / "dev-v1.1.rebuilt.json.gz"
    with open_text("squad/dev-v1.1.json") as f:
        assert len(json.load(f)["data"]) == 48


@needs_mirror
def test_manifest_matches_mirror_sums():
    sums = {}
    for line in (MIRROR / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, name = line.split(maxsplit=1)
        sums[name.removeprefix("./")] = digest
    for name, entry in load_manifest().items():
        if entry["url"] is None:
            assert name in sums, f"mirror-only file {name} is not in the mirror"
        if entry["sha256"] is not None:
            assert sums.get(name) == entry["sha256"], name
        if entry.get("mirror_name"):
            assert sums.get(entry["mirror_name"]) == entry["mirror_sha256"], name


def test_failed_download_names_destination_mirror_and_the_fix(data_root, server, tmp_path, monkeypatch):
    monkeypatch.setenv("CLAF_DATA_MIRROR", str(tmp_path / "mirror"))
    manifest = {"toy/pairs.txt": {"url": f"{server.url}/gone.txt", "sha256": "ab" * 32}}
    with pytest.raises(DataFileError) as err:
        resolve_data_file("toy/pairs.txt", manifest=manifest)
    message = str(err.value)
    assert "\n" not in message and message.startswith("data file 'toy/pairs.txt': ")
    assert f"the mirror CLAF_DATA_MIRROR={tmp_path / 'mirror'} has no toy/pairs.txt" in message
    assert f"downloading {server.url}/gone.txt to {data_root / 'toy' / 'pairs.txt'} failed" in message
    assert "set CLAF_DATA_MIRROR to a folder holding toy/pairs.txt" in message


def test_corrupt_local_copy_is_reported_as_corrupt_not_as_a_network_failure(data_root, server):
    target = data_root / "toy" / "pairs.txt"
    target.parent.mkdir()
    target.write_bytes(b"half a fi")
    manifest = {"toy/pairs.txt": {"url": f"{server.url}/gone.txt", "sha256": "ab" * 32}}
    with pytest.raises(DataFileError) as err:
        resolve_data_file("toy/pairs.txt", manifest=manifest)
    assert str(err.value).startswith(f"data file 'toy/pairs.txt': the local copy {target} is corrupt (sha256 ")


def test_a_relative_mirror_is_made_absolute_for_the_processes_started_elsewhere(tmp_path, monkeypatch):
    import os
    import subprocess
    import sys

    from claf.data.sources import mirror_root

    monkeypatch.chdir(MIRROR.parent)
    monkeypatch.setenv("CLAF_DATA_MIRROR", MIRROR.name)  # the README's `export CLAF_DATA_MIRROR=../shared/data`
    assert mirror_root() == MIRROR and os.environ["CLAF_DATA_MIRROR"] == str(MIRROR)
    code = "from claf.data.sources import resolve_data_file; print(resolve_data_file('nsmc/ratings_test.txt'))"
    found = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert found.stdout.strip() == str(MIRROR / "nsmc" / "ratings_test.txt")
