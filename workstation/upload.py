"""upload s3://bucket/prefix: the bundle to S3 under <prefix>/<content hash>/, then
the LifeCycleConfig for create_cluster.json.

Only what is missing is sent: files already under the destination with the same sha256 (from its
MANIFEST.json, else each object's sha256 metadata) stay; files unchanged since the last upload
under the same prefix are copied inside S3 from there. MANIFEST.json goes last: its presence says
the version is complete. boto3's transfer manager (s3transfer) does the multipart uploads and the
parallelism, botocore the retries.
"""

import json
import re
import shutil
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import boto3
from boto3.s3.transfer import TransferConfig, create_transfer_manager
from botocore.config import Config
from botocore.exceptions import (BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError,
                                 NoRegionError)

from workstation import bundle as bundles

MB = 1024 * 1024
RETRIES = Config(retries={"max_attempts": 10, "mode": "standard"})
TRANSFERS = TransferConfig(multipart_threshold=8 * MB, multipart_chunksize=8 * MB, max_concurrency=8)
# Beside the versions, outside every SourceS3Uri: which version went up last, the source of copies.
LATEST = "latest.json"
URI_RE = re.compile(r"^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(.*))?$")


class UploadError(Exception):
    """A problem a person can act on, shown as one line."""


@dataclass
class Result:
    source_s3_uri: str
    content_hash: str
    uploaded: list = field(default_factory=list)
    copied: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    bytes_uploaded: int = 0
    copied_from: str = ""

    def life_cycle_config(self):
        return {"SourceS3Uri": self.source_s3_uri, "OnCreate": "on_create.sh"}


def parse_uri(uri):
    m = URI_RE.match(uri)
    if not m:
        raise UploadError(f"{uri!r} is not an s3://bucket/prefix URI (bucket names: lowercase letters, digits, "
                          "'.' and '-')")
    return m.group(1), (m.group(2) or "").strip("/")


def read_manifest(folder):
    """The bundle's MANIFEST.json, checked against the files (a bundle changed after its build would
    land under a hash that does not name it)."""
    path = Path(folder) / bundles.MANIFEST
    if not path.is_file():
        raise UploadError(f"{folder} has no {bundles.MANIFEST}: not a bundle from bootstrap.py bundle")
    try:
        manifest = json.loads(path.read_text())
        files = {p: Path(folder) / p for p in manifest["files"]}
        same = bundles.make_manifest(files) == manifest
    except (ValueError, KeyError, TypeError, OSError):
        same = False
    if not same:
        raise UploadError(f"{folder} differs from its {bundles.MANIFEST}: rebuild it with bootstrap.py bundle")
    return manifest


def remote_objects(client, bucket, prefix):
    """{key: size} under a prefix."""
    found = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        found.update((o["Key"], o["Size"]) for o in page.get("Contents", []))
    return found


def remote_json(client, bucket, key):
    try:
        return json.loads(client.get_object(Bucket=bucket, Key=key)["Body"].read())
    except ClientError as e:
        if e.response["Error"]["Code"] in ("NoSuchKey", "404"):
            return None
        raise


def stored_digests(client, bucket, dest, objects):
    """{path in the bundle: sha256} of what is already under dest: from its MANIFEST.json when the
    version is complete, else from each object's metadata (an upload cut short)."""
    if dest + bundles.MANIFEST in objects:
        manifest = remote_json(client, bucket, dest + bundles.MANIFEST) or {}
        return dict(manifest.get("files") or {})
    digests = {}
    for key in objects:
        meta = client.head_object(Bucket=bucket, Key=key).get("Metadata") or {}
        if "sha256" in meta:
            digests[key[len(dest):]] = meta["sha256"]
    return digests


def previous_version(client, bucket, prefix, previous, content_hash):
    """(folder key, {sha256: path}) of the last upload under the prefix, to copy unchanged files from."""
    if not previous or previous == content_hash:
        return "", {}
    folder = _join(prefix, previous[:12]) + "/"
    manifest = remote_json(client, bucket, folder + bundles.MANIFEST) or {}
    return folder, {sha: path for path, sha in sorted((manifest.get("files") or {}).items())}


def _join(prefix, name):
    return f"{prefix}/{name}" if prefix else name


def upload(client, folder, bucket, prefix, transfer_config=TRANSFERS):
    """Upload the bundle folder; return a Result."""
    manifest = read_manifest(folder)
    short = manifest["content_hash"][:12]
    dest = _join(prefix, short) + "/"
    result = Result(f"s3://{bucket}/{dest}", manifest["content_hash"])
    objects = remote_objects(client, bucket, dest)
    stored = stored_digests(client, bucket, dest, objects)
    sizes = {p: (Path(folder) / p).stat().st_size for p in manifest["files"]}
    latest = remote_json(client, bucket, _join(prefix, LATEST)) or {}
    copy_from, by_digest = previous_version(client, bucket, prefix, latest.get("content_hash"),
                                            manifest["content_hash"])
    result.copied_from = f"s3://{bucket}/{copy_from}" if copy_from else ""

    with create_transfer_manager(client, transfer_config) as transfers:
        futures = []
        for path, digest in manifest["files"].items():
            key, meta = dest + path, {"Metadata": {"sha256": digest}}
            if stored.get(path) == digest and objects.get(key) == sizes[path]:
                result.unchanged.append(path)
            elif digest in by_digest:
                source = {"Bucket": bucket, "Key": copy_from + by_digest[digest]}
                # REPLACE: a multipart copy (large files) carries no metadata over; give it explicitly.
                futures.append(transfers.copy(source, bucket, key, extra_args={**meta, "MetadataDirective": "REPLACE"}))
                result.copied.append(path)
            else:
                futures.append(transfers.upload(str(Path(folder) / path), bucket, key, extra_args=meta))
                result.uploaded.append(path)
                result.bytes_uploaded += sizes[path]
        for future in futures:
            future.result()  # the first failure stops the run, before MANIFEST.json marks it complete
    manifest_key = dest + bundles.MANIFEST
    if result.uploaded or result.copied or manifest_key not in objects:
        data = (Path(folder) / bundles.MANIFEST).read_bytes()
        client.put_object(Bucket=bucket, Key=manifest_key, Body=data, Metadata={"sha256": bundles.sha256_bytes(data)})
        result.uploaded.append(bundles.MANIFEST)
        result.bytes_uploaded += len(data)
    else:
        result.unchanged.append(bundles.MANIFEST)
    if latest.get("content_hash") != manifest["content_hash"]:
        client.put_object(Bucket=bucket, Key=_join(prefix, LATEST), ContentType="application/json",
                          Body=json.dumps({"content_hash": manifest["content_hash"],
                                           "source_s3_uri": result.source_s3_uri}, indent=1).encode())
    return result


def explain(error, bucket, prefix):
    """One line for an AWS failure."""
    where = f"s3://{bucket}/{prefix}"
    if isinstance(error, NoCredentialsError):
        return "no AWS credentials found; set AWS_PROFILE, or run aws configure (or aws sso login)"
    if isinstance(error, NoRegionError):
        return "no AWS region set; set AWS_REGION or AWS_DEFAULT_REGION"
    if isinstance(error, EndpointConnectionError):
        return f"cannot reach S3 ({error.kwargs.get('endpoint_url')}); check the network or AWS_ENDPOINT_URL"
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        message = " ".join(str(error.response.get("Error", {}).get("Message", "")).split())
        if code == "NoSuchBucket":
            return f"bucket {bucket} does not exist; create it (aws s3 mb s3://{bucket}) or fix the URI"
        if code in ("AccessDenied", "403", "AllAccessDisabled"):
            return (f"access denied to {where} ({error.operation_name}); the credentials need s3:ListBucket on the "
                    "bucket and s3:GetObject and s3:PutObject under the prefix")
        if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken"):
            return f"AWS refused the credentials ({code}: {message}); renew them or set AWS_PROFILE"
        return f"S3 refused {error.operation_name} on {where}: {code}: {message}"
    return f"{type(error).__name__}: {' '.join(str(error).split())}"


def bundle_folder(args, scratch):
    """The folder to upload: --bundle (a folder, or a .tar.gz unpacked), else a fresh build."""
    if args.bundle:
        given = Path(args.bundle)
        if given.is_dir():
            return given
        if given.is_file() and bundles.is_tarball(given):
            with tarfile.open(given) as tar:
                tar.extractall(scratch, filter="data")
            return scratch
        raise UploadError(f"--bundle {given}: not a bundle folder or .tar.gz")
    wheels = None if args.no_wheels else (args.wheels or bundles.WHEELS_DIR)
    bundles.build(scratch / "bundle", bundles.ROOT, args.collections or bundles.COLLECTIONS_DIR, wheels)
    return scratch / "bundle"


def _size(n):
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.1f} kB"


def main(args):
    started = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix="hyperpod-upload-"))
    try:
        bucket, prefix = parse_uri(args.uri)
        folder = bundle_folder(args, scratch)
        client = boto3.Session().client("s3", config=RETRIES)
        result = upload(client, folder, bucket, prefix)
    except (UploadError, bundles.BundleError) as e:
        print(f"{args.prog}: {e}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as e:
        print(f"{args.prog}: {explain(e, *parse_uri(args.uri))}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    elapsed = time.monotonic() - started
    if args.json:
        print(json.dumps({"source_s3_uri": result.source_s3_uri, "content_hash": result.content_hash,
                          "uploaded": len(result.uploaded), "copied": len(result.copied),
                          "unchanged": len(result.unchanged), "bytes_uploaded": result.bytes_uploaded,
                          "copied_from": result.copied_from, "seconds": round(elapsed, 2),
                          "LifeCycleConfig": result.life_cycle_config()}, indent=2))
        return 0
    copied = f", {len(result.copied)} copied in S3 from {result.copied_from}" if result.copied else ""
    print(f"{result.source_s3_uri}: {len(result.uploaded)} files uploaded ({_size(result.bytes_uploaded)})"
          f"{copied}, {len(result.unchanged)} already there, in {elapsed:.1f}s")
    print("LifeCycleConfig for every instance group of create_cluster.json:")
    print(json.dumps(result.life_cycle_config()))
    return 0
