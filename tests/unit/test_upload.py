"""bootstrap.py upload against a moto server (a real HTTP endpoint, as S3 is): the keys, a second
upload that sends nothing, a changed bundle that sends only what changed, and one-line errors."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from workstation import bundle as wb  # noqa: E402
from workstation import cli  # noqa: E402
from workstation import upload as wu  # noqa: E402

MOTO_SERVER = Path(sys.executable).parent / "moto_server"
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_DEFAULT_REGION": "us-east-1"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto(tmp_path_factory, **env):
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    process = subprocess.Popen([str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)], stdout=open(log, "w"),
                               stderr=subprocess.STDOUT, env={**os.environ, **env})
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, f"http://127.0.0.1:{port}"
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail(f"moto_server did not start: {log.read_text()}")
            time.sleep(0.2)


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    process, endpoint = start_moto(tmp_path_factory)
    yield endpoint
    process.terminate()
    process.wait(10)


@pytest.fixture
def env(moto, tmp_path):
    """The environment of a workstation whose AWS is the moto server; no real credentials reachable."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    environment.update(FAKE_CREDENTIALS, AWS_ENDPOINT_URL=moto, AWS_EC2_METADATA_DISABLED="true",
                       AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
                       AWS_CONFIG_FILE=str(tmp_path / "no-config"))
    return environment


@pytest.fixture
def s3(env):
    return boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture
def bucket(s3, request):
    name = "sagemaker-hpb-" + request.node.name.replace("_", "-")[:40].strip("-").lower()
    s3.create_bucket(Bucket=name)
    return name


def objects(s3, bucket):
    """{key: (ETag, LastModified)}: unchanged objects keep both."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {o["Key"]: (o["ETag"], o["LastModified"]) for page in pages for o in page.get("Contents", [])}


def upload_command(env, *args):
    """bootstrap.py upload in a process of its own: what a person sees, tracebacks included."""
    return subprocess.run([sys.executable, str(REPO / "bootstrap.py"), "upload", *args], env=env,
                          capture_output=True, text=True)


@pytest.fixture
def upload(monkeypatch, capsys):
    """bootstrap.py upload in this process (faster), with the given environment: the workstation
    command line bootstrap.py passes it on to."""
    def run(env, *args):
        for name in [n for n in os.environ if n.startswith("AWS_")]:
            monkeypatch.delenv(name)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        code = cli.main(["upload", *args], prog="bootstrap.py")
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out, err)
    return run


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A bundle with the real wheels when there are some (a file over the multipart threshold)."""
    return wb.build(tmp_path_factory.mktemp("bundle") / "bundle", wheels_dir=wb.WHEELS_DIR)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A bundle without wheels: quicker to send."""
    return wb.build(tmp_path_factory.mktemp("small") / "bundle", wheels_dir=None)


def test_upload_then_nothing_to_do(upload, env, s3, bucket, built):
    bundle, path = built
    result = upload(env, f"s3://{bucket}/hyperpod/lcs/", "--bundle", str(path), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    dest = f"hyperpod/lcs/{bundle.short_hash}/"
    assert report["LifeCycleConfig"] == {"SourceS3Uri": f"s3://{bucket}/{dest}", "OnCreate": "on_create.sh"}
    assert (report["uploaded"], report["copied"], report["unchanged"]) == (len(bundle.files) + 1, 0, 0)
    first = objects(s3, bucket)
    assert set(first) == {dest + name for name in bundle.files} | {dest + "MANIFEST.json", "hyperpod/lcs/latest.json"}
    assert s3.head_object(Bucket=bucket, Key=dest + "on_create.sh")["Metadata"] == {
        "sha256": bundle.manifest["files"]["on_create.sh"]}
    assert json.loads(s3.get_object(Bucket=bucket, Key=dest + "MANIFEST.json")["Body"].read()) == bundle.manifest
    big = [name for name, p in bundle.files.items() if p.stat().st_size > wu.TRANSFERS.multipart_threshold]
    for name in big:  # a multipart upload's ETag ends in -<parts>
        assert "-" in first[dest + name][0], name

    again = upload(env, f"s3://{bucket}/hyperpod/lcs", "--bundle", str(path), "--json")
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert (report["uploaded"], report["copied"], report["bytes_uploaded"]) == (0, 0, 0)
    assert report["unchanged"] == len(bundle.files) + 1
    assert objects(s3, bucket) == first


def test_a_changed_bundle_sends_only_what_changed(upload, env, s3, bucket, tmp_path):
    source = tmp_path / "src"
    for arcname, file in wb.source_files(REPO).items():
        (source / arcname).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, source / arcname)
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / "big-1.0-py3-none-any.whl").write_bytes(os.urandom(wu.TRANSFERS.multipart_threshold + 1))
    first, one = wb.build(tmp_path / "one", source=source, wheels_dir=wheels)
    assert upload(env, f"s3://{bucket}/lcs", "--bundle", str(one)).returncode == 0
    with open(source / "group_vars" / "all.yml", "a") as f:
        f.write("slurm_common_wait_timeout: 1200\n")
    second, two = wb.build(tmp_path / "two", source=source, wheels_dir=wheels)
    result = upload(env, f"s3://{bucket}/lcs", "--bundle", str(two))
    assert result.returncode == 0, result.stderr
    size = (two / "group_vars/all.yml").stat().st_size + (two / "MANIFEST.json").stat().st_size
    first_line = result.stdout.splitlines()[0]
    assert first_line == (f"s3://{bucket}/lcs/{second.short_hash}/: 2 files uploaded ({size / 1e3:.1f} kB), "
                          f"{len(second.files) - 1} copied in S3 from s3://{bucket}/lcs/{first.short_hash}/, "
                          f"0 already there, in {first_line.rsplit(' ', 1)[1]}")
    assert json.loads(result.stdout.splitlines()[-1]) == {"SourceS3Uri": f"s3://{bucket}/lcs/{second.short_hash}/",
                                                          "OnCreate": "on_create.sh"}
    copied = s3.get_object(Bucket=bucket, Key=f"lcs/{second.short_hash}/wheels/big-1.0-py3-none-any.whl")
    assert copied["Body"].read() == (wheels / "big-1.0-py3-none-any.whl").read_bytes()
    assert copied["Metadata"]["sha256"] == second.manifest["files"]["wheels/big-1.0-py3-none-any.whl"]
    assert json.loads(s3.get_object(Bucket=bucket, Key="lcs/latest.json")["Body"].read())["content_hash"] == \
        second.content_hash


def test_an_upload_cut_short_is_completed(upload, env, s3, bucket, small):
    """Objects of an interrupted run (no MANIFEST.json yet) count by their sha256 metadata."""
    bundle, path = small
    dest = f"x/{bundle.short_hash}/"
    s3.put_object(Bucket=bucket, Key=dest + "bootstrap.py", Body=(path / "bootstrap.py").read_bytes(),
                  Metadata={"sha256": bundle.manifest["files"]["bootstrap.py"]})
    s3.put_object(Bucket=bucket, Key=dest + "ansible.cfg", Body=b"half written")
    report = json.loads(upload(env, f"s3://{bucket}/x", "--bundle", str(path), "--json").stdout)
    assert (report["uploaded"], report["unchanged"]) == (len(bundle.files), 1)
    assert s3.get_object(Bucket=bucket, Key=dest + "ansible.cfg")["Body"].read() == (path / "ansible.cfg").read_bytes()


def test_builds_when_no_bundle_is_given(upload, env, s3, bucket):
    result = upload(env, f"s3://{bucket}", "--no-wheels")
    assert result.returncode == 0, result.stderr
    uri = json.loads(result.stdout.splitlines()[-1])["SourceS3Uri"]
    short = uri.split("/")[-2]
    assert uri == f"s3://{bucket}/{short}/" and f"{short}/MANIFEST.json" in objects(s3, bucket)


def test_a_tarball_is_unpacked_and_uploaded(upload, env, s3, bucket, tmp_path):
    bundle, tarball = wb.build(tmp_path / "b-{hash}.tar.gz", wheels_dir=None)
    result = upload(env, f"s3://{bucket}/t", "--bundle", str(tarball), "--json")
    assert json.loads(result.stdout)["source_s3_uri"] == f"s3://{bucket}/t/{bundle.short_hash}/"


# ---- one-line errors -----------------------------------------------------------------------------

def test_missing_bucket(env, small):
    result = upload_command(env, "s3://sagemaker-no-such-bucket/lcs", "--bundle", str(small[1]))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == ("bootstrap.py upload: bucket sagemaker-no-such-bucket does not exist; create it "
                             "(aws s3 mb s3://sagemaker-no-such-bucket) or fix the URI\n")


def test_missing_credentials(env, bucket, small):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        del env[name]
    result = upload_command(env, f"s3://{bucket}/lcs", "--bundle", str(small[1]))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == ("bootstrap.py upload: no AWS credentials found; set AWS_PROFILE, or run aws configure "
                             "(or aws sso login)\n")


def test_unknown_credentials(tmp_path_factory, tmp_path, small):
    """A moto server that checks credentials, as S3 does."""
    process, endpoint = start_moto(tmp_path_factory, INITIAL_NO_AUTH_ACTION_COUNT="0")
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(FAKE_CREDENTIALS, AWS_ENDPOINT_URL=endpoint, AWS_CONFIG_FILE=str(tmp_path / "none"),
                   AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"))
        result = upload_command(env, "s3://sagemaker-locked/lcs", "--bundle", str(small[1]))
    finally:
        process.terminate()
        process.wait(10)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == ("bootstrap.py upload: AWS refused the credentials (InvalidAccessKeyId: The AWS Access Key "
                             "Id you provided does not exist in our records.); renew them or set AWS_PROFILE\n")


def test_access_denied_is_one_line():
    error = ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "PutObject")
    assert wu.explain(error, "sagemaker-x", "lcs") == (
        "access denied to s3://sagemaker-x/lcs (PutObject); the credentials need s3:ListBucket on the bucket and "
        "s3:GetObject and s3:PutObject under the prefix")


@pytest.mark.parametrize("uri", ["https://bucket/lcs", "s3://Bucket_Name/lcs", "s3:/bucket", "bucket/lcs"])
def test_a_bad_uri(upload, env, uri):
    result = upload(env, uri, "--no-wheels")
    assert result.returncode == 2 and result.stderr.startswith(f"bootstrap.py upload: {uri!r} is not an s3://")


def test_a_changed_bundle_folder_is_refused(upload, env, bucket, tmp_path):
    _, path = wb.build(tmp_path / "b", wheels_dir=None)
    with open(path / "on_create.sh", "a") as f:
        f.write("# edited after the build\n")
    result = upload(env, f"s3://{bucket}/lcs", "--bundle", str(path))
    assert (result.returncode, result.stderr) == (
        2, f"bootstrap.py upload: {path} differs from its MANIFEST.json: rebuild it with bootstrap.py bundle\n")
