"""slurmctld and the accounting database agree on the cluster's id (Slurm 23.x and newer keep one).

The slurm24 scenario starts slurmctld without accounting before the lifecycle enables it: the
order that ends in CLUSTER ID MISMATCH on HyperPod unless the accounting role handles it.
"""

import pytest

STATE_FILE = "/var/lib/slurm/slurmctld/clustername"


@pytest.fixture(scope="module")
def saved_id(controller):
    content = controller.file(STATE_FILE).content_string.strip() if controller.file(STATE_FILE).exists else ""
    if "|" not in content:
        pytest.skip("this Slurm keeps no cluster id in %s" % STATE_FILE)
    name, cluster_id = content.split("|")
    return name, cluster_id


def test_slurmctld_never_hit_a_cluster_id_mismatch(controller):
    assert controller.service("slurmctld").is_running
    assert "CLUSTER ID MISMATCH" not in controller.file("/var/log/slurm/slurmctld.log").content_string


def test_saved_cluster_id_is_the_databases(controller, saved_id):
    if not controller.exists("mariadb"):
        pytest.skip("the accounting database is not on the controller")
    name, cluster_id = saved_id
    query = "SELECT id FROM cluster_table WHERE name = '%s' AND deleted = 0" % name
    assert controller.check_output("mariadb -N slurm_acct_db -e %s", query) == cluster_id
