"""The enroot_pyxis role on the containers scenario's cluster (tests/harness/containers).

Enroot and Pyxis here are stand-ins built by the test (build-artifacts.sh): an "enroot" package
whose command only prints a line, and a tiny real SPANK plugin with Pyxis's option name that sets
PYXIS_STANDIN_IMAGE in the job's environment. So these checks show the install path (download with
checksum and retries, build against the node's Slurm headers, plugstack, reconfigure) and that
slurmd and srun really load the plugin; a real `srun --container-image` is not exercised.
"""

import json
import pathlib

import pytest
import testinfra

GOLDEN = pathlib.Path(__file__).parent / "golden"
PLUGIN = "/usr/local/lib/slurm/spank_pyxis.so"


@pytest.fixture(scope="module")
def compute(computes):
    return computes[0]


@pytest.fixture(scope="module", autouse=True)
def enroot_pyxis_enabled(compute):
    """Every cluster scenario's verifier collects tests/integration; only the containers scenario
    turns the role on."""
    if not compute.file("/etc/enroot/enroot.conf").exists:
        pytest.skip("the enroot_pyxis role is not enabled on this cluster")


@pytest.fixture(scope="module")
def server_log():
    """Every request ctr-http answered (through converge and idempotence), {client, method, path,
    status} each (tests/harness/artifact_server.py)."""
    http = testinfra.get_host("podman://ctr-http")
    out = http.check_output("python3 -c 'import urllib.request; print(urllib.request.urlopen(\"http://localhost:8080/_requests\").read().decode())'")
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def pyxis_lines(text):
    return [line for line in text.splitlines() if "spank_pyxis.so" in line and not line.lstrip().startswith("#")]


def test_enroot_conf_golden(compute):
    # The NVMe stand-in (mounted 8 s after boot by dlami-nvme.service) was waited for and chosen.
    assert compute.file("/etc/enroot/enroot.conf").content_string == (GOLDEN / "enroot.conf").read_text()
    for path in ["/opt/dlami/nvme/tmp/enroot", "/opt/dlami/nvme/enroot"]:
        assert compute.file(path).mode == 0o1777


def test_the_images_enroot_conf_is_kept(controller):
    # The controller's image has an enroot.conf of its own (prepare.yml): its keys win over the
    # role's, the role's other keys are there, and the original is kept beside it.
    text = controller.file("/etc/enroot/enroot.conf").content_string.splitlines()
    assert "ENROOT_SQUASH_OPTIONS -comp zstd -Xcompression-level 3" in text
    assert "ENROOT_MAX_PROCESSORS 1" in text
    assert "ENROOT_RUNTIME_PATH /opt/dlami/nvme/tmp/enroot/user-$(id -u)" in text
    assert "ENROOT_MAX_PROCESSORS=1" in controller.file("/etc/enroot/enroot.conf.image").content_string


def test_plugstack_golden_on_the_controller(controller):
    text = controller.file("/etc/slurm/plugstack.conf").content_string
    assert text == (GOLDEN / "plugstack.conf").read_text()
    assert len(pyxis_lines(text)) == 1


def test_configless_node_got_one_pyxis_line(compute):
    text = compute.file("/var/lib/slurm/slurmd/conf-cache/plugstack.conf").content_string
    assert pyxis_lines(text) == ["optional %s" % PLUGIN]
    assert "ConstrainDevices=yes" in compute.file("/var/lib/slurm/slurmd/conf-cache/cgroup.conf").content_string


def test_enroot_standin_installed(all_nodes):
    for node in all_nodes:
        assert node.package("enroot").version == "3.4.1-1+standin"
        assert "enroot stand-in" in node.check_output("enroot version")


def test_pyxis_built_against_slurm_headers(all_nodes):
    for node in all_nodes:
        # The stand-in's own symbol, from its source unpacked and built on this node.
        assert "slurm_spank_task_init" in node.check_output("nm -D --defined-only %s" % PLUGIN)
        assert node.file("/usr/local/src/pyxis-0.19.0/spank_pyxis.c").exists


def test_srun_loads_the_plugin(controller, compute):
    # srun on the compute node reads the configless plugstack.conf, then slurmstepd runs the task with it.
    assert "--container-image" in compute.check_output("srun --help")
    out = controller.check_output("srun -N1 -w ctr-compute --container-image=standin-image printenv PYXIS_STANDIN_IMAGE")
    assert out.strip() == "standin-image"
    assert controller.check_output("srun -N1 -w ctr-compute hostname").strip() == "ctr-compute"


def test_downloads_retried_then_cached(server_log, all_nodes):
    # Each node: two 503s, then the file, once per artifact; the idempotence run asked for nothing.
    clients = {entry["client"] for entry in server_log}
    assert len(clients) == len(all_nodes), server_log
    for client in clients:
        for name in ["enroot-standin_3.4.1-1_amd64.deb", "pyxis-standin-0.19.0.tar.gz"]:
            statuses = [r["status"] for r in server_log if r["client"] == client and r["path"] == "/flaky-2/" + name]
            assert statuses == [503, 503, 200], (client, name, statuses)


def test_docker_runs_on_the_local_disk(all_nodes):
    for node in all_nodes:
        info = json.loads(node.check_output("docker info --format '{{json .}}'"))
        assert info["DockerRootDir"] == "/opt/sagemaker/docker/data-root"
        assert node.service("docker").is_enabled
        assert "docker" in node.user("ubuntu").groups


def test_docker_runs_a_container(compute):
    # A three-file root filesystem (dash, libc, the loader) imported and run: no registry needed.
    compute.check_output(
        "tar -ch -C / bin/dash lib/x86_64-linux-gnu/libc.so.6 lib64/ld-linux-x86-64.so.2 | docker import - hpb-tiny:latest")
    assert compute.check_output("docker run --rm --network none hpb-tiny:latest /bin/dash -c 'echo inside'") == "inside"
