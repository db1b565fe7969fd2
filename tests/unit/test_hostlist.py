"""The hostlist filters that keep slurm.conf's node lines short."""


import pytest

import source_files

hostlist = source_files.load("plugins/filter/hostlist.py")


@pytest.mark.parametrize("names, expected", [
    ([], ""),
    (["login"], "login"),
    (["n1"], "n1"),
    (["n1", "n2", "n3"], "n[1-3]"),
    (["n3", "n1", "n2"], "n[1-3]"),
    (["n1", "n2", "n4", "n5", "n7"], "n[1-2,4-5,7]"),
    (["n01", "n02", "n10"], "n[01-02,10]"),
    (["n9", "n10"], "n[9-10]"),
    (["ip-10-1-0-5", "ip-10-1-0-6", "ip-10-1-1-5"], "ip-10-1-0-[5-6],ip-10-1-1-5"),
    (["a1", "b1", "a2", "login"], "a[1-2],b1,login"),
    (["n1", "n1"], "n1"),
])
def test_hostlist_compress(names, expected):
    assert hostlist.hostlist_compress(names) == expected


def test_zero_padded_and_plain_numbers_do_not_merge():
    assert hostlist.hostlist_compress(["n09", "n10", "n9"]) == "n[9,09-10]"


def test_node_groups_keep_hardware_apart():
    nodes = [{"name": "c%d" % i, "CPUs": 2} for i in range(1, 4)] + [{"name": "g1", "CPUs": 8}]
    assert hostlist.slurm_node_groups(nodes) == [{"NodeName": "c[1-3]", "CPUs": 2},
                                                 {"NodeName": "g1", "CPUs": 8}]


def test_ten_thousand_nodes_make_one_short_line():
    names = ["ip-10-0-%d-%d" % (i // 250, i % 250 + 1) for i in range(10000)]
    compressed = hostlist.hostlist_compress(names)
    assert len(compressed) < 1000
    assert compressed.startswith("ip-10-0-0-[1-250],ip-10-0-1-[1-250]")
