"""S3-compatible object storage (AWS S3, MinIO, SeaweedFS, ...) through boto3.

Credentials come from the environment, as boto3 reads them (AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE, ...). The endpoint of a non-AWS server
comes from the store's ``endpoint_url``, else ``$CLAF_S3_ENDPOINT_URL``, else boto3's own
``$AWS_ENDPOINT_URL``. Errors become one-line ``HubError``s naming the object and the fix.
"""

import hashlib
import os
from pathlib import Path
from urllib.parse import urlparse

from claf.atomic import atomic_file
from claf.extras import require
from claf.hub.cache import CHUNK_SIZE, HubError, one_line, write_checksum

CREDENTIAL_ERRORS = {
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AccessDenied",
    "InvalidToken",
    "ExpiredToken",
    "AuthorizationHeaderMalformed",
    "InvalidSecurity",
}
NOT_FOUND = {"NoSuchKey", "404", "NotFound", "NoSuchBucket"}
SHA256_META = "sha256"


def parse_s3_url(url):
    """``s3://bucket/key`` -> (bucket, key)."""
    parsed = urlparse(url)
    if parsed.scheme.lower() != "s3" or not parsed.netloc or not parsed.path.strip("/"):
        raise HubError(f"{url}: an S3 URL looks like s3://bucket/path/to/object; fix the URL")
    return parsed.netloc, parsed.path.lstrip("/")


def client(endpoint_url=None, region=None):
    require("s3", "s3://")  # a store or file on S3
    import boto3
    from botocore.config import Config

    endpoint_url = endpoint_url or os.environ.get("CLAF_S3_ENDPOINT_URL") or None
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    # Checksums only when the API requires them: S3-compatible servers differ in the newer ones.
    config = Config(
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        s3={"addressing_style": "path"} if endpoint_url else {},
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=10,
        read_timeout=60,
    )
    # A fresh session: the default one caches the credentials it first saw in the environment.
    return boto3.session.Session().client("s3", endpoint_url=endpoint_url, region_name=region, config=config)


def explain(exc, what):
    """A boto3/botocore exception -> HubError (one line, with the fix)."""
    from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, PartialCredentialsError

    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return HubError(
            f"{what}: no S3 credentials found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
            f"(or AWS_PROFILE) in the environment"
        )
    if isinstance(exc, EndpointConnectionError):
        return HubError(
            f"{what}: cannot reach the S3 endpoint ({one_line(exc)}); check endpoint_url / "
            f"CLAF_S3_ENDPOINT_URL and that the server is running"
        )
    if not isinstance(exc, ClientError) and isinstance(exc.__context__, ClientError):
        exc = exc.__context__  # boto3's S3UploadFailedError wraps the server's answer
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in CREDENTIAL_ERRORS or code == "403":
            return HubError(
                f"{what}: S3 refused the credentials ({code}); check AWS_ACCESS_KEY_ID / "
                f"AWS_SECRET_ACCESS_KEY and the key's permissions on this bucket"
            )
        if code in NOT_FOUND:
            return HubError(f"{what}: no such S3 object or bucket ({code}); check the bucket and key")
        return HubError(f"{what}: S3 request failed ({code}: {one_line(exc)})")
    return HubError(f"{what}: S3 request failed ({one_line(exc)})")


def boto_errors():
    from boto3.exceptions import Boto3Error
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError, Boto3Error)


def head(s3, bucket, key):
    """Object metadata, or None when it does not exist."""
    from botocore.exceptions import ClientError

    try:
        return s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code", "")) in NOT_FOUND:
            return None
        raise explain(exc, f"s3://{bucket}/{key}") from exc
    except boto_errors() as exc:
        raise explain(exc, f"s3://{bucket}/{key}") from exc


def expected_sha256(s3, bucket, key):
    """The object's recorded checksum: its ``sha256`` metadata, else a ``<key>.sha256`` object."""
    info = head(s3, bucket, key)
    if info is None:
        raise HubError(f"s3://{bucket}/{key}: no such object; check the URL or publish the checkpoint first")
    digest = (info.get("Metadata") or {}).get(SHA256_META)
    if digest:
        return digest.lower()
    try:
        text = s3.get_object(Bucket=bucket, Key=key + ".sha256")["Body"].read().decode("utf-8")
        return text.split()[0].lower()
    except boto_errors():
        return None


def download(url, dest, sha256=None, endpoint_url=None):
    """Fetch ``s3://bucket/key`` into ``dest`` and verify it (``sha256`` or the object's recorded one)."""
    bucket, key = parse_s3_url(url)
    dest = Path(dest)
    try:
        s3 = client(endpoint_url)
        expected = (sha256 or expected_sha256(s3, bucket, key) or "").lower() or None
        digest = hashlib.sha256()
        with atomic_file(dest) as out:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"]
            for chunk in iter(lambda: body.read(CHUNK_SIZE), b""):
                digest.update(chunk)
                out.write(chunk)
            actual = digest.hexdigest()
            if expected and actual != expected:
                raise HubError(
                    f"{url}: checksum mismatch (expected {expected}, got {actual}); the object is "
                    f"corrupt or was replaced: publish it again"
                )
    except boto_errors() as exc:
        raise explain(exc, url) from exc
    write_checksum(dest, actual)
    return dest
