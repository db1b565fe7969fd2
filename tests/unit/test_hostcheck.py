"""The host check against fake hosts: what it finds, what the scenarios then do, where it stops."""

import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "harness"))
import hostcheck  # noqa: E402
import reduced  # noqa: E402

CGROUP_V1 = ("cpu", "cpuacct", "memory", "pids", "devices", "freezer")


def fake_host(tmp_path, autofs=True, fuse=True, cgroup="v2", delegated="cpu memory pids", podman="4.9.3",
              os_release='NAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n'):
    """A host description as files under tmp_path, read by hostcheck.probe(root=...)."""
    def put(rel, text=""):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    put("proc/misc", "229 fuse\n" * fuse + "235 autofs\n" * autofs + "200 tun\n")
    put("proc/filesystems", "nodev\tsysfs\n\text4\nnodev\toverlay\n" + "nodev\tfuse\n" * fuse)
    put("proc/meminfo", "MemTotal:       25000000 kB\nMemAvailable:   20000000 kB\n")
    put("proc/sys/kernel/osrelease", "6.1.0-fake\n")
    put("etc/os-release", os_release)
    put("usr/bin/apt-get")
    if fuse:
        put("dev/fuse")
    if autofs:
        put("dev/autofs")
    if cgroup == "v2":
        put("sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n")
        put("sys/fs/cgroup/cgroup.subtree_control", delegated + "\n")
    else:
        for name in CGROUP_V1 + ("systemd",):
            (tmp_path / "sys/fs/cgroup" / name).mkdir(parents=True)
        if cgroup == "hybrid":
            put("sys/fs/cgroup/unified/cgroup.controllers", "")
    (tmp_path / "var/lib/containers").mkdir(parents=True)
    return hostcheck.probe(tmp_path, version=lambda argv: podman if argv[0] == "podman" else "1.1.5")


def test_a_full_host_runs_everything_in_full(tmp_path):
    facts = fake_host(tmp_path)
    assert (facts["autofs"], facts["fuse"], facts["cgroup"]) == (True, True, "v2")
    plan = hostcheck.decide(facts)
    assert plan.stops == [] and plan.reduced == []
    assert plan.env == {"HPB_AUTOFS_DEVICE": "--device=/dev/autofs"}


def test_without_autofs_the_nodes_get_no_autofs_device_and_the_record_says_so(tmp_path):
    facts = fake_host(tmp_path, autofs=False)
    assert facts["autofs"] is False and facts["fuse"] is True
    plan = hostcheck.decide(facts)
    assert plan.stops == [] and "HPB_AUTOFS_DEVICE" not in plan.env
    [(scenarios, check, why)] = plan.reduced
    assert scenarios == ("hyperpod",) and "automount" in check and "no autofs" in why


def test_without_fuse_the_hyperpod_scenario_runs_without_fsx(tmp_path):
    plan = hostcheck.decide(fake_host(tmp_path, fuse=False))
    assert plan.stops == []
    assert plan.env["HPB_FSX"] == "none" and plan.env["HPB_FUSE_DEVICE"].startswith("--label=")
    assert any("without a shared file system" in check and "no FUSE" in why for _, check, why in plan.reduced)


@pytest.mark.parametrize("layout, version, controllers", [
    ("v2", "v2", ["cpu", "memory", "pids"]),
    ("hybrid", "hybrid", sorted(CGROUP_V1)),
    ("v1", "v1", sorted(CGROUP_V1)),
])
def test_cgroup_version_and_controllers(tmp_path, layout, version, controllers):
    facts = fake_host(tmp_path, cgroup=layout)
    assert (facts["cgroup"], facts["cgroup_controllers"]) == (version, controllers)
    assert hostcheck.decide(facts).stops == []
    assert f"cgroup: {version}" in " ".join(hostcheck.describe(facts))


def test_v2_without_delegated_controllers_is_described(tmp_path):
    facts = fake_host(tmp_path, delegated="")
    assert facts["cgroup_controllers"] == [] and "v2 (no controllers)" in hostcheck.describe(facts)[1]


@pytest.mark.parametrize("change, expected", [
    ({"root": False}, "not root: the harness creates podman containers"),
    ({"podman": "3.4.4"}, "podman 3.4.4 is too old: the scenarios need podman 4.0 or newer"),
    ({"disk_free_gib": 3.5}, "3.5 GiB free under /var/lib/containers: the images and containers need 12 GiB"),
    ({"memory_available_gib": 1.0}, "1.0 GiB of memory available: the scenarios need 4 GiB"),
    ({"apt": False, "podman": None}, "no apt-get and no podman"),
    ({"ulimits_hard": {"nofile": 4096, "nproc": 100000}}, "the hard nofile limit is 4096"),
])
def test_what_nothing_can_replace_stops_with_one_line(tmp_path, change, expected):
    facts = dict(fake_host(tmp_path), **change)
    [line] = hostcheck.decide(facts).stops
    assert line.startswith(expected) and "\n" not in line


def test_every_scenario_states_its_needs_and_reads_the_settings_made_for_it():
    scenarios = {p.parent.name for p in (REPO / "molecule").glob("*/molecule.yml")}
    assert scenarios == set(hostcheck.SCENARIO_NEEDS)
    for adaptation in hostcheck.ADAPTATIONS:
        for scenario in adaptation.scenarios:
            text = "".join(p.read_text() for p in (REPO / "molecule" / scenario).glob("*.yml"))
            for name in {**adaptation.present, **adaptation.absent}:
                assert re.search(r"\$\{%s\b|'%s'" % (name, name), text), (scenario, name)


def test_main_writes_the_settings_and_starts_the_record(tmp_path, monkeypatch, capsys):
    facts = fake_host(tmp_path / "host", autofs=False)
    monkeypatch.setattr(hostcheck, "probe", lambda: facts)
    monkeypatch.setattr(hostcheck, "STATE", tmp_path / "state")
    monkeypatch.setattr(reduced, "PATH", tmp_path / "reduced.txt")
    reduced.PATH.write_text('{"where": "old", "check": "from an earlier run", "why": "-"}\n')
    assert hostcheck.main([]) == 0
    assert (tmp_path / "state" / "env").read_text() == ""
    [(where, check, _)] = reduced.read()
    assert where == "hyperpod" and "automount" in check
    reduced.add("hyperpod", "another check", "a reason")
    reduced.add("hyperpod", "another check", "a reason")
    assert len(reduced.read()) == 2
    assert "autofs: absent" in capsys.readouterr().out


def test_main_stops_before_writing_anything(tmp_path, monkeypatch, capsys):
    facts = dict(fake_host(tmp_path / "host"), podman="3.4.4")
    monkeypatch.setattr(hostcheck, "probe", lambda: facts)
    monkeypatch.setattr(hostcheck, "STATE", tmp_path / "state")
    assert hostcheck.main([]) == 1
    assert not (tmp_path / "state").exists()
    assert capsys.readouterr().err.startswith("host check: podman 3.4.4 is too old")
