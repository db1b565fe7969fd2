"""slurm_compute's node features on a live cluster: given from the worker side, a job asking for
them runs, and they come back when slurmctld drops them (as after HyperPod rewrites slurm.conf)."""

import re

import pytest

CONFIG = "/etc/hpb-node-features.json"


@pytest.fixture(scope="module")
def featured(computes):
    """(host, Slurm node name) of the first compute node with features set."""
    for host in computes:
        if host.file(CONFIG).exists:
            return host, host.check_output("hostname -s").strip()
    pytest.skip("no compute node has slurm_compute_features here")


def features(host, slurm_bin, name):
    line = host.check_output("%s/scontrol show node -o %s" % (slurm_bin, name))
    return re.search(r"AvailableFeatures=(\S*)", line).group(1).split(","), re.search(r"ActiveFeatures=(\S*)", line).group(1).split(",")


def test_a_job_asking_for_the_feature_runs_there(featured, login, slurm_bin):
    host, name = featured
    assert "hpb-test" in features(host, slurm_bin, name)[0]
    out = login.check_output("timeout 120 %s/srun --constraint=hpb-test -w %s hostname -s" % (slurm_bin, name))
    assert out.strip() == name
    assert host.service("hpb-node-features.timer").is_enabled


def test_features_dropped_by_slurmctld_come_back(featured, controller, slurm_bin):
    host, name = featured
    # What a reconfigure after the platform's rewrite leaves: the node line's features only.
    controller.check_output("%s/scontrol update NodeName=%s AvailableFeatures=hpb-other ActiveFeatures=hpb-other"
                            % (slurm_bin, name))
    assert "hpb-test" not in features(host, slurm_bin, name)[0]
    host.check_output("systemctl start hpb-node-features.service")  # what the timer runs
    available, active = features(host, slurm_bin, name)
    assert "hpb-test" in available and "hpb-test" in active and "hpb-other" in available
    # Left as the bundle set it.
    controller.check_output("%s/scontrol update NodeName=%s AvailableFeatures=hpb-test ActiveFeatures=hpb-test"
                            % (slurm_bin, name))
