"""Real services for the scale-out tests (issue 17 §5–6): moto's S3 server (the stand-in for MinIO / OSS /
COS) and a ``redis-server`` of the test's own, each on a free loopback port, started once per session.
Missing binaries skip locally and fail in CI."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
ACCESS_KEY, SECRET_KEY = "kepuyue-test", "kepuyue-test-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing answers on 127.0.0.1:{port}")


def _missing(what: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {what} is not installed")
    pytest.skip(f"{what} is not installed")


@pytest.fixture(scope="session")
def s3_endpoint():
    """``http://127.0.0.1:<port>`` of a moto S3 server for this session."""
    server = Path(sys.executable).with_name("moto_server")
    if not server.exists():
        _missing("moto[server] (pip install -e '.[dev]')")
    port = free_port()
    proc = subprocess.Popen(  # noqa: S603
        [str(server), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def redis_url():
    """``redis://127.0.0.1:<port>/0`` of a redis-server of this session (nothing saved to disk)."""
    binary = shutil.which("redis-server")
    if binary is None:
        _missing("redis-server")
    port = free_port()
    proc = subprocess.Popen(  # noqa: S603
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


BUCKET = "kepuyue-test"


def scale_out_settings(monkeypatch, endpoint: str) -> object:
    """``kepuyue/settings.py`` evaluated again with the scale-out environment of an S3 store at ``endpoint``
    (the module, so a test reads what production would read: ``STORAGES``, ``AWS_STORAGE_BUCKET_NAME``)."""
    import kepuyue.settings

    for key, value in {
        "AWS_STORAGE_BUCKET_NAME": BUCKET,
        "AWS_S3_ENDPOINT_URL": endpoint,
        "AWS_S3_REGION_NAME": "us-east-1",
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
    }.items():
        monkeypatch.setenv(key, value)
    spec = importlib.util.spec_from_file_location("kepuyue_settings_scale_out", kepuyue.settings.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def s3_store(s3_endpoint, settings, monkeypatch):
    """Public and private files in the S3 stand-in, as in scale-out: ``settings.STORAGES`` and the bucket
    name from the real settings module; returns a boto3 client of the store (bucket emptied first)."""
    import boto3

    scaled = scale_out_settings(monkeypatch, s3_endpoint)
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
    )
    try:
        client.create_bucket(Bucket=BUCKET)
    except client.exceptions.BucketAlreadyOwnedByYou:
        for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
            client.delete_object(Bucket=BUCKET, Key=item["Key"])
    settings.AWS_STORAGE_BUCKET_NAME = scaled.AWS_STORAGE_BUCKET_NAME
    settings.STORAGES = {**settings.STORAGES, "default": scaled.STORAGES["default"]}
    return client
