"""The enroot_pyxis role's download and plugstack task files, run on this machine with connection
local (no containers): a checksum mismatch fails with the URL and both sums, a server that fails
twice is retried, a rerun asks for nothing; Pyxis goes into plugstack.conf exactly once, never next
to a Pyxis line the node image already has, and scontrol reconfigure (a stand-in script) runs only
on a change. The scenario `containers` runs the whole role on a cluster."""

import hashlib
import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "harness"))
import artifact_server  # noqa: E402 - tests/harness
GOLDEN = ROOT / "tests" / "unit" / "golden" / "enroot_pyxis"
PAYLOAD = b"stand-in artifact\n"
SHA = hashlib.sha256(PAYLOAD).hexdigest()

PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
{tasks}
"""
FETCH = """    - ansible.builtin.include_role:
        name: enroot_pyxis
        tasks_from: fetch
"""
PLUGSTACK = """    - ansible.builtin.include_role:
        name: enroot_pyxis
        tasks_from: detect_pyxis
    - ansible.builtin.include_role:
        name: enroot_pyxis
        tasks_from: plugstack
"""


@pytest.fixture
def server(tmp_path_factory):
    """The tests' artifact server (tests/harness/artifact_server.py) serving a.deb, b.deb and c.deb;
    /flaky-2/NAME answers 503 twice first. server.requests lists what it answered."""
    files = tmp_path_factory.mktemp("artifacts")
    for name in ("a.deb", "b.deb", "c.deb"):
        (files / name).write_bytes(PAYLOAD)
    s = artifact_server.start(files)
    yield s
    s.shutdown()


def paths(server):
    return [r["path"] for r in server.requests]


def play(tmp_path, collections, tasks, extra):
    (tmp_path / "play.yml").write_text(PLAYBOOK.format(tasks=tasks))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_ROLES_PATH=str(ROOT / "roles"),
               ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_NOCOLOR="1")
    extra = dict(extra, ansible_python_interpreter=sys.executable)
    result = subprocess.run([str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,",
                             "play.yml", "-e", json.dumps(extra)], cwd=tmp_path, env=env, capture_output=True, text=True)
    return result, " ".join(result.stdout.split())


def fetch_vars(tmp_path, url, sha):
    return {"__enroot_pyxis_artifacts": [{"url": url, "sha256": sha}], "__enroot_pyxis_var": "enroot_pyxis_enroot_debs",
            "enroot_pyxis_download_dir": str(tmp_path / "downloads"), "enroot_pyxis_offline_dir": str(tmp_path / "none"),
            "packages_download_delay": 1}


def test_checksum_mismatch_fails_naming_url_and_both_sums(tmp_path, server, repo_collections):
    wrong = "0" * 64
    result, out = play(tmp_path, repo_collections, FETCH, fetch_vars(tmp_path, server.url + "/a.deb", wrong))
    assert result.returncode == 2, out[-3000:]
    assert ("enroot_pyxis: %s/a.deb: sha256 mismatch: expected %s, actual %s." % (server.url, wrong, SHA)) in out
    assert paths(server) == ["/a.deb"]  # not retried: the same bytes would come again
    assert not (tmp_path / "downloads" / "a.deb").exists()


def test_server_failing_twice_is_retried_and_a_rerun_asks_nothing(tmp_path, server, repo_collections):
    extra = fetch_vars(tmp_path, server.url + "/flaky-2/b.deb", SHA)
    result, out = play(tmp_path, repo_collections, FETCH, extra)
    assert result.returncode == 0, out[-3000:]
    assert paths(server) == ["/flaky-2/b.deb"] * 3
    assert (tmp_path / "downloads" / "b.deb").read_bytes() == PAYLOAD
    result, out = play(tmp_path, repo_collections, FETCH, extra)
    assert result.returncode == 0 and "changed=0" in out, out[-3000:]
    assert len(server.requests) == 3


def test_a_url_that_keeps_failing_is_tried_within_the_bound_and_named(tmp_path, server, repo_collections):
    extra = dict(fetch_vars(tmp_path, server.url + "/flaky-99/e.deb", SHA), packages_download_retries=1)
    result, out = play(tmp_path, repo_collections, FETCH, extra)
    assert result.returncode == 2, out[-3000:]
    assert paths(server) == ["/flaky-99/e.deb"] * 2
    assert "enroot_pyxis: %s/flaky-99/e.deb: download failed after 2 attempts: Request failed." % server.url in out


def test_unpinned_artifact_is_refused_before_any_download(tmp_path, server, repo_collections):
    result, out = play(tmp_path, repo_collections, FETCH, fetch_vars(tmp_path, server.url + "/c.deb", ""))
    assert result.returncode == 2
    assert "enroot_pyxis: enroot_pyxis_enroot_debs: '%s/c.deb' needs a url and the sha256" % server.url in out
    assert server.requests == []


def test_artifact_shipped_in_the_bundle_is_used_offline(tmp_path, repo_collections):
    (tmp_path / "bundle").mkdir()
    (tmp_path / "bundle" / "d.deb").write_bytes(PAYLOAD)
    extra = dict(fetch_vars(tmp_path, "http://192.0.2.1/unreachable/d.deb", SHA), enroot_pyxis_offline_dir=str(tmp_path / "bundle"))
    result, out = play(tmp_path, repo_collections, FETCH, extra)
    assert result.returncode == 0, out[-3000:]
    assert (tmp_path / "downloads" / "d.deb").read_bytes() == PAYLOAD
    (tmp_path / "bundle" / "d.deb").write_bytes(b"tampered\n")
    result, out = play(tmp_path, repo_collections, FETCH, extra)
    assert result.returncode == 2 and "sha256 mismatch: expected %s" % SHA in out, out[-3000:]


@pytest.fixture
def confdir(tmp_path):
    """A Slurm configuration folder as Debian ships it, and a stand-in scontrol that logs its calls."""
    conf = tmp_path / "etc"
    (conf / "plugstack.conf.d").mkdir(parents=True)
    (conf / "plugstack.conf").write_text("include %s/plugstack.conf.d/*.conf\n" % conf)
    (tmp_path / "bin").mkdir()
    scontrol = tmp_path / "bin" / "scontrol"
    scontrol.write_text("#!/bin/sh\necho \"$@\" >> %s/scontrol.log\n" % tmp_path)
    scontrol.chmod(0o755)
    return conf


def plugstack_vars(tmp_path, conf):
    return {"slurm_common_paths": {"confdir": str(conf), "bindir": str(tmp_path / "bin")},
            "slurm_common_effective_mode": "hyperpod"}


def reconfigures(tmp_path):
    log = tmp_path / "scontrol.log"
    return log.read_text().splitlines() if log.exists() else []


def test_pyxis_enabled_once_then_nothing_changes(tmp_path, confdir, repo_collections):
    extra = plugstack_vars(tmp_path, confdir)
    result, out = play(tmp_path, repo_collections, PLUGSTACK, extra)
    assert result.returncode == 0, out[-3000:]
    expected = (GOLDEN / "plugstack.conf").read_text().replace("@CONFDIR@", str(confdir))
    assert (confdir / "plugstack.conf").read_text() == expected
    assert (confdir / "cgroup.conf").read_text() == "ConstrainDevices=yes\n"
    assert reconfigures(tmp_path) == ["reconfigure"]
    result, out = play(tmp_path, repo_collections, PLUGSTACK, extra)
    assert result.returncode == 0 and "changed=0" in out, out[-3000:]
    assert (confdir / "plugstack.conf").read_text() == expected
    assert reconfigures(tmp_path) == ["reconfigure"]


def test_cgroup_key_set_in_place_keeping_the_platforms_keys(tmp_path, confdir, repo_collections):
    (confdir / "cgroup.conf").write_text("CgroupPlugin=autodetect\nConstrainDevices=no\nConstrainRAMSpace=yes\n")
    result, out = play(tmp_path, repo_collections, PLUGSTACK, plugstack_vars(tmp_path, confdir))
    assert result.returncode == 0, out[-3000:]
    assert (confdir / "cgroup.conf").read_text() == "CgroupPlugin=autodetect\nConstrainDevices=yes\nConstrainRAMSpace=yes\n"


def test_image_with_pyxis_gets_no_second_line(tmp_path, confdir, repo_collections):
    # As the AWS sample leaves it, or a node image that ships Pyxis.
    (confdir / "plugstack.conf.d" / "pyxis.conf").write_text("required /usr/local/lib/slurm/spank_pyxis.so\n")
    before = (confdir / "plugstack.conf").read_text()
    result, out = play(tmp_path, repo_collections, PLUGSTACK, plugstack_vars(tmp_path, confdir))
    assert result.returncode == 0, out[-3000:]
    assert (confdir / "plugstack.conf").read_text() == before


def test_own_line_removed_when_the_image_brings_pyxis_later(tmp_path, confdir, repo_collections):
    extra = plugstack_vars(tmp_path, confdir)
    play(tmp_path, repo_collections, PLUGSTACK, extra)
    (confdir / "plugstack.conf").write_text((confdir / "plugstack.conf").read_text()
                                            + "required /opt/slurm/lib/slurm/spank_pyxis.so\n")
    result, out = play(tmp_path, repo_collections, PLUGSTACK, extra)
    assert result.returncode == 0, out[-3000:]
    lines = [line for line in (confdir / "plugstack.conf").read_text().splitlines() if "spank_pyxis.so" in line]
    assert lines == ["required /opt/slurm/lib/slurm/spank_pyxis.so"]
    assert reconfigures(tmp_path) == ["reconfigure", "reconfigure"]


def test_an_images_enroot_conf_is_read_as_enroot_reads_it():
    sys.path.insert(0, str(ROOT))
    from plugins.filter.enroot_conf import enroot_conf_settings
    text = ("# ENROOT_RUNTIME_PATH /commented\n\nENROOT_RUNTIME_PATH   /run/enroot/user-$(id -u)  \n"
            "ENROOT_MAX_PROCESSORS=4\nENROOT_EMPTY\n  #ENROOT_X 1\nENROOT_SQUASH_OPTIONS -comp zstd -Xcompression-level 3\n")
    assert enroot_conf_settings(text) == {
        "ENROOT_RUNTIME_PATH": "/run/enroot/user-$(id -u)",
        "ENROOT_MAX_PROCESSORS": "4",
        "ENROOT_SQUASH_OPTIONS": "-comp zstd -Xcompression-level 3"}
    assert enroot_conf_settings("") == {}
