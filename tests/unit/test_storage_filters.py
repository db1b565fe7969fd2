"""The filters of the fsx and shared_users roles (plugins/filter/fsx.py, shared_users.py): the fstab
entries, the users' clashes with a node's accounts, their homes and the homes to move."""

import time

import pytest
from ansible_collections.hyperpod.slurm.plugins.filter import fsx, shared_users

LUSTRE_OPTS, OPENZFS_OPTS = "noatime,flock", "nfsvers=4.2"


def passwd(**users):
    """getent_passwd facts: name=(uid, gid, home)."""
    return {name: ["x", str(uid), str(gid), "", home, "/bin/bash"] for name, (uid, gid, home) in users.items()}


def group(**groups):
    return {name: ["x", str(gid), ""] for name, gid in groups.items()}


def test_fsx_mounts_lustre_openzfs_and_their_own_options():
    mounts = fsx.fsx_mounts([
        {"type": "lustre", "dns_name": "fs-1", "mount_name": "abc", "path": "/fsx"},
        {"type": "openzfs", "dns_name": "fs-2", "path": "/home"},
        {"type": "openzfs", "dns_name": "fs-3", "path": "/data//", "export": "/fsx/data", "options": "nfsvers=3"},
        {"type": "lustre", "dns_name": "fs-4", "mount_name": "xyz", "path": "/", "options": None},
    ], LUSTRE_OPTS, OPENZFS_OPTS, "/fsx")
    assert mounts == [
        {"type": "lustre", "dns_name": "fs-1", "path": "/fsx", "src": "fs-1@tcp:/abc", "fstype": "lustre",
         "opts": LUSTRE_OPTS},
        {"type": "openzfs", "dns_name": "fs-2", "path": "/home", "src": "fs-2:/fsx", "fstype": "nfs", "opts": OPENZFS_OPTS},
        {"type": "openzfs", "dns_name": "fs-3", "path": "/data", "src": "fs-3:/fsx/data", "fstype": "nfs",
         "opts": "nfsvers=3"},
        {"type": "lustre", "dns_name": "fs-4", "path": "/", "src": "fs-4@tcp:/xyz", "fstype": "lustre",
         "opts": LUSTRE_OPTS},
    ]


def test_fsx_mounts_leaves_a_missing_mount_name_to_the_roles_check():
    mounts = fsx.fsx_mounts([{"type": "lustre", "dns_name": "fs-1", "path": "/fsx"}], LUSTRE_OPTS, OPENZFS_OPTS, "/fsx")
    assert mounts[0]["src"] == "fs-1@tcp:/"


def test_no_conflicts_for_free_or_own_names_and_numbers():
    users = [{"name": "alice", "uid": 2001}, {"name": "bob", "uid": 2002}]
    accounts = passwd(root=(0, 0, "/root"), alice=(2001, 2001, "/home/alice"))
    assert shared_users.shared_user_conflicts(users, accounts, group(root=0, alice=2001)) == []
    assert shared_users.shared_user_conflicts(users, {}, {}) == []


def test_every_kind_of_conflict_in_the_users_order():
    users = [{"name": "alice", "uid": 2001}, {"name": "bob", "uid": "2002"}]
    accounts = passwd(alice=(1500, 1500, "/home/alice"), carol=(2001, 2001, "/home/carol"), dave=(2002, 100, "/"),
                      erin=(2002, 100, "/"))
    groups = group(alice=1500, staff=2001, bob=7)
    assert shared_users.shared_user_conflicts(users, accounts, groups) == [
        "user alice has UID 1500, not 2001",
        "UID 2001 of alice belongs to user carol",
        "group alice has GID 1500, not 2001",
        "GID 2001 of alice belongs to group staff",
        "UID 2002 of bob belongs to user dave",
        "UID 2002 of bob belongs to user erin",
        "group bob has GID 7, not 2002",
    ]


def test_conflicts_stay_linear_in_users_and_accounts():
    """20,000 users against 20,000 accounts: an index per number, not a search per user."""
    users = [{"name": "u%d" % i, "uid": 100000 + i} for i in range(20000)]
    accounts = passwd(**{"a%d" % i: (200000 + i, 200000 + i, "/home/a%d" % i) for i in range(20000)})
    groups = group(**{"a%d" % i: 200000 + i for i in range(20000)})
    start = time.monotonic()
    assert shared_users.shared_user_conflicts(users, accounts, groups) == []
    assert time.monotonic() - start < 2


def test_homes_are_the_users_own_else_under_the_root():
    users = [{"name": "alice", "uid": 2001, "home": ""}, {"name": "bob", "uid": 2002, "home": "/srv/bob"},
             {"name": "carol", "uid": 2003}]
    assert shared_users.shared_user_homes(users, "/fsx") == {"alice": "/fsx/alice", "bob": "/srv/bob",
                                                            "carol": "/fsx/carol"}
    assert shared_users.shared_user_homes(users, "/home")["alice"] == "/home/alice"


@pytest.mark.parametrize("path, paths, expected", [
    ("/fsx", ["/fsx"], True),
    ("/fsx/homes", ["/home", "/fsx"], True),
    ("/fsx2", ["/fsx"], False),
    ("/fsx", [], False),
    ("/anything", ["/"], True),
])
def test_within_paths(path, paths, expected):
    assert shared_users.within_paths(path, paths) is expected


def test_home_moves_of_existing_accounts_with_the_default_user_last():
    homes = {"alice": "/fsx/alice", "bob": "/srv/bob", "ghost": "/fsx/ghost"}
    accounts = passwd(alice=(2001, 2001, "/home/alice"), bob=(2002, 2002, "/srv/bob"), ubuntu=(1000, 1000, "/home/ubuntu"))
    assert shared_users.home_moves(homes, accounts, "ubuntu", "/fsx") == [
        {"name": "alice", "gid": "2001", "home": "/fsx/alice", "old": "/home/alice"},
        {"name": "bob", "gid": "2002", "home": "/srv/bob", "old": ""},
        {"name": "ubuntu", "gid": "1000", "home": "/fsx/ubuntu", "old": "/home/ubuntu"},
    ]
    assert shared_users.home_moves(homes, accounts) == shared_users.home_moves(homes, accounts, "", "/fsx")[:2]


def test_the_users_file_wins_over_the_default_users_move():
    """A default user listed in shared_users.txt with a home of its own keeps that home: one move, so
    a rerun finds it in place (two moves would send it back and forth)."""
    accounts = passwd(ubuntu=(1000, 1000, "/home/ubuntu"))
    assert shared_users.home_moves({"ubuntu": "/srv/ubuntu"}, accounts, "ubuntu", "/fsx") == [
        {"name": "ubuntu", "gid": "1000", "home": "/srv/ubuntu", "old": "/home/ubuntu"}]
    assert shared_users.home_moves({}, passwd(), "ubuntu", "/fsx") == []
