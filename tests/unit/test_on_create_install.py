"""on_create.sh's install step, run for real on this host's Python in a temporary bundle: offline
from the bundle's wheels; from a package index (a PEP 503 index served here on 127.0.0.1) when the
bundle lacks wheels for this Python; refused when a wheel does not match the lock. bootstrap.py is a
stand-in that reports what the venv holds; the host's pip configuration is switched off."""

import functools
import html
import http.server
import os
import platform
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from workstation import bundle as wb  # noqa: E402
from workstation import node_lock  # noqa: E402

PYTHON = "%d.%d" % sys.version_info[:2]
CORE = node_lock.LOCKS[PYTHON][0]
ARCH = platform.machine()
FALLBACK = f"the bundle has no wheels for Python {PYTHON} on {ARCH}"
# Answers nothing (the discard port, refused): an install that should stay offline fails if it does not.
NO_INDEX = "http://127.0.0.1:9/simple"
STAND_IN = """import ansible.release, ansible_runner, boto3, yaml
print("stand-in bootstrap.py: ansible-core", ansible.release.__version__, "boto3", boto3.__version__)
"""

pytestmark = pytest.mark.skipif(not (wb.WHEELS_DIR / f"ansible_core-{CORE}-py3-none-any.whl").is_file(),
                                reason="needs .cache/wheels (tools/fetch_node_wheels.py)")


@pytest.fixture
def node(tmp_path):
    """A bundle folder with on_create.sh and the locks (wheels/ left to each test), a resource config,
    and an environment with python3 = this host's Python and no pip configuration but PIP_INDEX_URL."""
    bundle = tmp_path / "bundle"
    shutil.copytree(REPO / wb.BUNDLE_LOCKS, bundle / wb.BUNDLE_LOCKS)
    shutil.copy2(REPO / "on_create.sh", bundle)
    shutil.copytree(REPO / "lifecycle", bundle / "lifecycle", ignore=shutil.ignore_patterns("__pycache__"))
    (bundle / "bootstrap.py").write_text(STAND_IN)
    (bundle / "wheels").mkdir()
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python3").symlink_to(os.path.realpath(sys.executable))
    (tmp_path / "resource_config.json").write_text("{}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "HYPERPOD_"))}
    env.update(PATH=f"{tmp_path / 'bin'}:/usr/bin:/bin", HOME=str(tmp_path / "home"), PIP_CONFIG_FILE=os.devnull,
               PIP_INDEX_URL=NO_INDEX, SAGEMAKER_RESOURCE_CONFIG_PATH=str(tmp_path / "resource_config.json"),
               HYPERPOD_LOG_DIR=str(tmp_path / "log"), HYPERPOD_VENV=str(tmp_path / "venv"))
    return bundle, env


def run(bundle, env):
    result = subprocess.run(["bash", str(bundle / "on_create.sh")], env=env, capture_output=True, text=True,
                            timeout=240)
    return result.returncode, result.stdout + result.stderr


def add_wheels(bundle, keep=lambda path: True):
    for wheel in sorted(wb.WHEELS_DIR.glob("*.whl")):
        if keep(wheel):
            shutil.copyfile(wheel, bundle / "wheels" / wheel.name)


@pytest.fixture
def index(tmp_path):
    """A PEP 503 simple index of .cache/wheels on 127.0.0.1 (a thread of this process); yields
    (its URL, the paths it was asked for)."""
    root = tmp_path / "index"
    by_project = {}
    for wheel in sorted(wb.WHEELS_DIR.glob("*.whl")):
        by_project.setdefault(node_lock.normalize(wheel.name.split("-")[0]), []).append(wheel)
    for project, wheels in by_project.items():
        (root / "simple" / project).mkdir(parents=True)
        links = "".join(f'<a href="/files/{html.escape(w.name)}#sha256={wb.sha256_file(w)}">{html.escape(w.name)}</a>\n'
                        for w in wheels)
        (root / "simple" / project / "index.html").write_text(f"<!DOCTYPE html><html><body>\n{links}</body></html>\n")
    (root / "files").symlink_to(wb.WHEELS_DIR.resolve(), target_is_directory=True)
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, fmt, *args):
            requests.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple", requests
    finally:
        server.shutdown()
        server.server_close()


def test_installs_offline_from_the_bundles_wheels(node):
    bundle, env = node
    add_wheels(bundle)
    status, out = run(bundle, env)
    assert status == 0, out
    assert f"stand-in bootstrap.py: ansible-core {CORE} boto3 " in out
    assert FALLBACK not in out
    lock = f"{wb.BUNDLE_LOCKS}/{node_lock.lock_name(PYTHON, CORE)}"
    assert (Path(env["HYPERPOD_VENV"]) / ".installed").read_text().startswith(lock + " ")
    assert f"installing {lock} into {env['HYPERPOD_VENV']} (Python {PYTHON}, {ARCH})" in out
    assert out in (Path(env["HYPERPOD_LOG_DIR"]) / "provisioning.log").read_text()

    # A second run keeps the venv: nothing to install.
    status, again = run(bundle, env)
    assert status == 0 and "installing" not in again, again


def test_without_wheels_for_this_python_it_installs_the_locked_hashes_from_the_index(node, index):
    """The bundle has the pure-Python wheels (ansible-core among them) but no compiled ones for this
    Python, the case of a Python 3.12 or ARM64 node before: one line says so, then the index serves."""
    bundle, env = node
    url, requests = index
    add_wheels(bundle, keep=lambda wheel: wheel.name.endswith("-none-any.whl"))
    status, out = run(bundle, dict(env, PIP_INDEX_URL=url))
    assert status == 0, out
    fallback = [line for line in out.splitlines() if FALLBACK in line]
    assert len(fallback) == 1 and fallback[0].endswith(f"installing the locked versions and hashes from {url}"), out
    assert f"stand-in bootstrap.py: ansible-core {CORE} " in out
    served = [path for path in requests if path.startswith("/files/")]
    assert any(path.startswith("/files/pyyaml-") and f"cp{PYTHON.replace('.', '')}" in path for path in served), requests


def test_a_wheel_that_does_not_match_the_lock_is_refused(node, index):
    bundle, env = node
    url, requests = index
    add_wheels(bundle)
    six = next((bundle / "wheels").glob("six-*.whl"))
    six.write_bytes(six.read_bytes() + b"\0")  # still a readable zip: only the hash tells
    status, out = run(bundle, dict(env, PIP_INDEX_URL=url))
    assert status == 1, out
    assert "does not match its hash in requirements/node-lock/" in out.splitlines()[-1]
    assert "the bundle was damaged or altered; build and upload it again" in out.splitlines()[-1]
    assert six.name in out  # pip's own report names the file
    assert FALLBACK not in out and requests == []  # no quiet repair from the index
    assert not (Path(env["HYPERPOD_VENV"]) / ".installed").exists()


def test_an_ansible_core_override_without_a_lock_stops_naming_the_locks(node):
    bundle, env = node
    status, out = run(bundle, dict(env, HYPERPOD_ANSIBLE_CORE_VERSION="2.18.0"))
    assert status == 1
    line = out.splitlines()[-1]
    assert f"the bundle has no requirements/node-lock/py{PYTHON}-ansible-core-2.18.0.txt" in line
    assert f"py{PYTHON}-ansible-core-{CORE}.txt" in line and "rebuild the bundle" in line
    assert not Path(env["HYPERPOD_VENV"]).exists()


def test_an_ansible_core_override_with_a_lock_installs_that_core(node):
    other = [core for core in node_lock.LOCKS[PYTHON][1:]]
    if not other:
        pytest.skip(f"Python {PYTHON} has one lock")
    bundle, env = node
    add_wheels(bundle)
    status, out = run(bundle, dict(env, HYPERPOD_ANSIBLE_CORE_VERSION=other[0]))
    assert status == 0, out
    assert f"stand-in bootstrap.py: ansible-core {other[0]} " in out


def test_python_older_than_3_10_stops_with_one_line(node, tmp_path):
    bundle, env = node
    (tmp_path / "bin" / "python3").unlink()
    (tmp_path / "bin" / "python3").write_text("#!/bin/sh\necho 3.8\n")  # what Ubuntu 20.04's would print
    (tmp_path / "bin" / "python3").chmod(0o755)
    status, out = run(bundle, env)
    assert status == 1
    assert out.splitlines()[-1].endswith("ERROR: Python 3.8 is too old: ansible-core needs 3.10 or newer; use an "
                                         "image with Ubuntu 22.04 or newer (HyperPod's Ubuntu 20.04 image has "
                                         "Python 3.8)")
