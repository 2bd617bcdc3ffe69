"""Checkpoint stores: where packaged checkpoints are published. Uploads are atomic and checksummed.

    LocalStore(root)                       a folder (the default: $CLAF_HUB_DIR or <cache>/hub)
    S3Store(bucket, prefix, endpoint_url)  S3-compatible object storage (MinIO, SeaweedFS, AWS S3)

``put_file(path, key)`` never lets a partial object appear under ``key``: the local store copies
to a temporary name and renames; the S3 store uploads to a temporary key, checks the stored
size and checksum, copies to the final key and deletes the temporary one. Each object carries
its SHA-256 (S3 metadata ``sha256``, and a ``<key>.sha256`` object or file next to it).
"""

import hashlib
import os
import uuid
from pathlib import Path

from claf.atomic import atomic_file, atomic_write_text
from claf.hub.cache import HubError, cache_root, one_line, sha256_file

STORE_TYPES = ("local", "s3")


def default_local_root():
    env = os.environ.get("CLAF_HUB_DIR")
    return Path(env).expanduser() if env else cache_root() / "hub"


class LocalStore:
    kind = "local"

    def __init__(self, root=None):
        self.root = Path(root).expanduser() if root else default_local_root()

    def __repr__(self):
        return f"LocalStore({self.root})"

    def path(self, key):
        return self.root / key

    def url(self, key):
        return self.path(key).resolve().as_uri()

    def put_file(self, source, key):
        dest = self.path(key)
        digest = hashlib.sha256()
        try:
            with atomic_file(dest) as out, open(source, "rb") as f:
                os.fchmod(out.fileno(), 0o644)  # a store is shared: readable like any published file
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    digest.update(chunk)
                    out.write(chunk)
        except OSError as exc:
            raise HubError(
                f"{dest}: cannot publish there ({one_line(exc)}); make {dest.parent} writable or set "
                "checkpoint.local.root / CLAF_HUB_DIR"
            ) from exc
        atomic_write_text(dest.with_name(dest.name + ".sha256"), f"{digest.hexdigest()}  {dest.name}\n")
        return {"url": self.url(key), "sha256": digest.hexdigest(), "bytes": dest.stat().st_size}

    def read_text(self, key):
        try:
            return self.path(key).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def write_text(self, key, text):
        self.path(key).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path(key), text)

    def exists(self, key):
        return self.path(key).is_file()


class S3Store:
    kind = "s3"

    def __init__(self, bucket, prefix="", endpoint_url=None, region=None):
        if not bucket:
            raise HubError("publish.s3.bucket is empty; name the bucket to publish checkpoints to")
        from claf.hub import s3

        self.bucket, self.prefix = bucket, (prefix or "").strip("/")
        self.endpoint_url = endpoint_url
        self._s3 = s3
        self.client = s3.client(endpoint_url, region)

    def __repr__(self):
        return f"S3Store(s3://{self.bucket}/{self.prefix})"

    def key(self, key):
        return f"{self.prefix}/{key}" if self.prefix else key

    def url(self, key):
        return f"s3://{self.bucket}/{self.key(key)}"

    def put_file(self, source, key):
        final, size = self.key(key), Path(source).stat().st_size
        digest = sha256_file(source)
        temp = f"{self.prefix + '/' if self.prefix else ''}.uploads/{uuid.uuid4().hex}-{Path(key).name}"
        meta = {self._s3.SHA256_META: digest}
        try:
            # A multipart upload of a big file only becomes an object when it completes: under the temp key.
            self.client.upload_file(str(source), self.bucket, temp, ExtraArgs={"Metadata": meta})
            stored = self._s3.head(self.client, self.bucket, temp)
            if (
                stored is None
                or stored["ContentLength"] != size
                or (stored.get("Metadata") or {}).get(self._s3.SHA256_META) != digest
            ):
                raise HubError(
                    f"{self.url(key)}: the uploaded copy does not match {source} (size or checksum); retry the upload"
                )
            self.client.copy(
                {"Bucket": self.bucket, "Key": temp},
                self.bucket,
                final,
                ExtraArgs={"Metadata": meta, "MetadataDirective": "REPLACE"},
            )
            self.client.put_object(
                Bucket=self.bucket, Key=final + ".sha256", Body=f"{digest}  {Path(key).name}\n".encode()
            )
        except self._s3.boto_errors() as exc:
            raise self._s3.explain(exc, self.url(key)) from exc
        finally:
            try:
                self.client.delete_object(Bucket=self.bucket, Key=temp)
            except self._s3.boto_errors():
                pass
        return {"url": self.url(key), "sha256": digest, "bytes": size}

    def read_text(self, key):
        if self._s3.head(self.client, self.bucket, self.key(key)) is None:
            return None
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.key(key))["Body"].read().decode("utf-8")
        except self._s3.boto_errors() as exc:
            raise self._s3.explain(exc, self.url(key)) from exc

    def write_text(self, key, text):
        try:  # a single PUT replaces the object atomically
            self.client.put_object(
                Bucket=self.bucket, Key=self.key(key), Body=text.encode("utf-8"), ContentType="application/json"
            )
        except self._s3.boto_errors() as exc:
            raise self._s3.explain(exc, self.url(key)) from exc

    def exists(self, key):
        return self._s3.head(self.client, self.bucket, self.key(key)) is not None


def open_store(kind="local", local=None, s3=None):
    """A store from a recipe's ``publish`` block: kind plus the options of that kind."""
    if kind == "local":
        return LocalStore(**dict(local or {}))
    if kind == "s3":
        return S3Store(**dict(s3 or {}))
    raise HubError(f"publish.store '{kind}' is not one of {', '.join(STORE_TYPES)}")
