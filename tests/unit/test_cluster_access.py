"""cluster_access's Python: the filters (SSH host patterns, users file lines) and hyperpod-users
(plugins/plugin_utils/cluster_users.py): its lists, its plan for a node, its SSH key setup in a
folder the user controls, and the command's refusals before any change."""

import os
import subprocess

import pytest
from ansible_collections.hyperpod.slurm.plugins.filter.cluster_access import shared_users_lines, ssh_host_patterns
from ansible_collections.hyperpod.slurm.plugins.plugin_utils import cluster_users as cu

SETTINGS = {"home_root": "/fsx", "shell": "/bin/bash", "shared_paths": ["/fsx"]}


def test_hyperpod_names_become_one_pattern_and_others_stay():
    assert ssh_host_patterns(["ip-10-1-2-3", "ip-10-1-2-4", "head1", "head1", "bad name", "x\nHost *"]) == \
        ["ip-*-*-*-*", "head1"]


def test_users_lines_are_the_users_file_format():
    assert shared_users_lines([{"name": "a", "uid": 2001, "home": ""}, {"name": "b", "uid": 2002, "home": "/fsx/b"}]) \
        == "a,2001\nb,2002,/fsx/b\n"


@pytest.fixture
def lists(tmp_path):
    users, removed = tmp_path / "shared_users.txt", tmp_path / "removed_users.txt"
    users.write_text("# users\nalice,2001\nbob,2002,/home/bob\n")
    settings = dict(SETTINGS, users_dir=str(tmp_path), users_file=str(users), removed_file=str(removed))
    return settings


def test_read_lists_reads_the_lifecycles_format(lists):
    users, removed = cu.read_lists(lists["users_file"], lists["removed_file"])
    assert users == [{"name": "alice", "uid": 2001, "home": ""}, {"name": "bob", "uid": 2002, "home": "/home/bob"}]
    assert removed == []


def test_a_bad_line_stops_with_the_file_and_line(lists, tmp_path):
    (tmp_path / "shared_users.txt").write_text("alice,2001\nroot,0\n")
    with pytest.raises(cu.Stop, match=r"shared_users.txt: line 2: .*system account"):
        cu.read_lists(lists["users_file"], lists["removed_file"])


def test_a_user_in_both_lists_stops(lists, tmp_path):
    (tmp_path / "removed_users.txt").write_text("alice,2001\n")
    with pytest.raises(cu.Stop, match="removed_users.txt: alice: is also in"):
        cu.read_lists(lists["users_file"], lists["removed_file"])


def test_add_update_remove_and_come_back():
    users = [{"name": "alice", "uid": 2001, "home": ""}]
    users, removed = cu.with_user(users, [], "carol", "2003", "")
    assert [u["name"] for u in users] == ["alice", "carol"] and removed == []
    users, removed = cu.with_user(users, removed, "carol", "2003", "/fsx/c")  # home updated in place
    assert users[1] == {"name": "carol", "uid": 2003, "home": "/fsx/c"}
    users, removed = cu.without_user(users, removed, "carol")
    assert [u["name"] for u in users] == ["alice"] and removed == [{"name": "carol", "uid": 2003, "home": ""}]
    assert cu.without_user(users, removed, "carol") == (users, removed)  # twice: nothing more
    users, removed = cu.with_user(users, removed, "carol", "2003", "")
    assert [u["name"] for u in users] == ["alice", "carol"] and removed == []


def test_a_uid_never_changes_and_bad_input_is_refused():
    users = [{"name": "alice", "uid": 2001, "home": ""}]
    with pytest.raises(cu.Stop, match="UID 2001.*never changes"):
        cu.with_user(users, [], "alice", "2005", "")
    with pytest.raises(cu.ConfigError, match="system account"):
        cu.with_user(users, [], "root", "0", "")
    with pytest.raises(cu.ConfigError, match="not a number"):
        cu.with_user(users, [], "eve", "20x", "")
    with pytest.raises(cu.Stop, match="not in the cluster's list"):
        cu.without_user(users, [], "nobody1")


def test_write_checked_refuses_what_the_reader_refuses(tmp_path):
    path = tmp_path / "shared_users.txt"
    path.write_text("alice,2001\n")
    with pytest.raises(cu.Stop):
        cu.write_checked(str(path), "alice,2001\nalice,2002\n")
    assert path.read_text() == "alice,2001\n" and os.listdir(tmp_path) == ["shared_users.txt"]
    cu.write_checked(str(path), cu.render([{"name": "bob", "uid": 2002, "home": ""}]))
    assert path.read_text().endswith("bob,2002\n")


def passwd_entry(uid, home):
    return ["x", str(uid), str(uid), "", home, "/bin/bash"]


def test_plan_adds_what_is_missing_and_locks_the_removed():
    users = [{"name": "alice", "uid": 2001, "home": ""}, {"name": "bob", "uid": 2002, "home": "/home/bob"}]
    removed = [{"name": "carol", "uid": 2003, "home": ""}]
    passwd = {"bob": passwd_entry(2002, "/home/bob"), "carol": passwd_entry(2003, "/fsx/carol")}
    group = {"bob": ["x", "2002", ""], "carol": ["x", "2003", ""]}
    assert cu.plan(users, removed, passwd, group, SETTINGS) == [
        ("groupadd", "alice", [2001]), ("useradd", "alice", [2001, "/fsx/alice"]), ("lock", "carol", [])]
    # Converged: nothing to do; a locked user back in the list is unlocked.
    passwd["alice"], group["alice"] = passwd_entry(2001, "/fsx/alice"), ["x", "2001", ""]
    assert cu.plan(users, removed, passwd, group, SETTINGS, locked={"carol"}) == []
    assert cu.plan(users, [], passwd, group, SETTINGS, locked={"alice"}) == [("unlock", "alice", [])]


def test_plan_stops_on_a_clash_with_a_local_account():
    users = [{"name": "alice", "uid": 2001, "home": ""}]
    with pytest.raises(cu.Stop, match="UID 2001 of alice belongs to user mallory"):
        cu.plan(users, [], {"mallory": passwd_entry(2001, "/home/m")}, {}, SETTINGS)


def test_lock_is_an_expiry_that_unlock_undoes():
    assert cu.COMMANDS["lock"]("a") == ["usermod", "--expiredate", "1", "a"]
    assert cu.COMMANDS["unlock"]("a") == ["usermod", "--expiredate", "", "a"]


def keygen(argv, **_):
    """ssh-keygen -f PATH, for the tests: fixed bytes."""
    path = argv[argv.index("-f") + 1]
    with open(path, "w", encoding="utf-8") as f:
        f.write("PRIVATE\n")
    with open(path + ".pub", "w", encoding="utf-8") as f:
        f.write("ssh-ed25519 AAAA test\n")
    return subprocess.CompletedProcess(argv, 0)


def test_ssh_setup_makes_the_key_once_and_authorizes_it(tmp_path):
    home = tmp_path / "alice"
    home.mkdir()
    uid, gid = os.getuid(), os.getgid()
    cu.ssh_setup(str(home), uid, gid, "alice", run=keygen)
    key = home / ".ssh" / "id_ed25519"
    assert key.read_text() == "PRIVATE\n" and oct(key.stat().st_mode & 0o777) == "0o600"
    assert oct((home / ".ssh").stat().st_mode & 0o777) == "0o700"
    assert (home / ".ssh" / "authorized_keys").read_text() == "ssh-ed25519 AAAA test\n"
    assert not cu.needs_key(str(home))

    def no_keygen(argv, **_):
        raise AssertionError("a key exists: never made again")
    (home / ".ssh" / "authorized_keys").write_text("other-key\n")  # the user's own keys stay
    cu.ssh_setup(str(home), uid, gid, "alice", run=no_keygen)
    assert (home / ".ssh" / "authorized_keys").read_text() == "other-key\nssh-ed25519 AAAA test\n"


def test_ssh_setup_never_follows_a_link_the_user_planted(tmp_path):
    target = tmp_path / "root-owned"
    target.mkdir()
    home = tmp_path / "mallory"
    home.mkdir()
    (home / ".ssh").symlink_to(target)
    with pytest.raises(OSError):
        cu.ssh_setup(str(home), os.getuid(), os.getgid(), "mallory", run=keygen)
    assert os.listdir(target) == []
    (home / ".ssh").unlink()
    (home / ".ssh").mkdir()
    secret = tmp_path / "secret"
    secret.write_text("keep\n")
    (home / ".ssh" / "authorized_keys").symlink_to(secret)
    with pytest.raises(OSError):
        cu.ssh_setup(str(home), os.getuid(), os.getgid(), "mallory", run=keygen)
    assert secret.read_text() == "keep\n"


def test_the_command_stops_before_any_change(lists, capsys):
    before = open(lists["users_file"]).read()
    assert cu.main(["add", "root", "0"], settings=lists) == 2
    assert "system account" in capsys.readouterr().err
    assert cu.main(["add", "alice", "2009"], settings=lists) == 2
    assert open(lists["users_file"]).read() == before
    assert cu.main(["list"], settings=lists) == 0
    assert "alice,2001" in capsys.readouterr().out


def test_associate_adds_only_what_is_missing():
    calls = []

    def sacctmgr(argv, **_):
        calls.append(argv)
        return subprocess.CompletedProcess(argv, 0, stdout="root\n" if "dave" not in argv[-2] else "", stderr="")
    assert "already" in cu.associate("alice", "root", run=sacctmgr)
    assert "added" in cu.associate("dave", "root", run=sacctmgr)
    assert calls[-1][1:] == ["--immediate", "add", "user", "dave", "account=root"]

    def down(argv, **_):
        return subprocess.CompletedProcess(argv, 1, stdout="", stderr="slurmdbd unreachable")
    assert "not reachable" in cu.associate("dave", "root", run=down)


def test_a_private_key_without_its_public_half_gets_it_derived(tmp_path, monkeypatch):
    """Another node wrote the private key and stopped (or is slow) before the public one."""
    monkeypatch.setattr(cu.time, "sleep", lambda _: None)
    home = tmp_path / "alice"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text("PRIVATE\n")

    def derive(argv, **_):
        assert argv[:2] == ["ssh-keygen", "-y"]
        return subprocess.CompletedProcess(argv, 0, stdout=b"ssh-ed25519 DERIVED alice\n")
    cu.ssh_setup(str(home), os.getuid(), os.getgid(), "alice", run=derive)
    assert (home / ".ssh" / "id_ed25519").read_text() == "PRIVATE\n"
    assert (home / ".ssh" / "authorized_keys").read_text() == "ssh-ed25519 DERIVED alice\n"


# -- pam_slurm_adopt switched off: sshd's PAM stack as it was ------------------------------------

SSHD_PAM = "@include common-auth\naccount required pam_nologin.so\n@include common-account\n@include common-session\n"


def run_pam_off(local_playbook, tmp_path, pam_file):
    playbook = tmp_path / "off.yml"
    playbook.write_text("- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n"
                        "    - ansible.builtin.include_role:\n        name: cluster_access\n"
                        "        tasks_from: pam_slurm_adopt_off\n")
    return local_playbook(playbook, "-e", "__cluster_access_pam_sshd=%s" % pam_file, cwd=tmp_path)


def test_turning_pam_slurm_adopt_off_restores_sshds_stack(local_playbook, tmp_path):
    pam = tmp_path / "sshd"
    pam.write_text(SSHD_PAM.replace(
        "@include common-account\n",
        "@include common-account\n# BEGIN hyperpod.slurm cluster_access: pam_slurm_adopt\n"
        "account required /lib/security/pam_slurm_adopt.so\n# END hyperpod.slurm cluster_access: pam_slurm_adopt\n")
        .replace("@include common-session\n",
                 "@include common-session-noninteractive  # hyperpod.slurm cluster_access: no pam_systemd\n"))
    done = run_pam_off(local_playbook, tmp_path, pam)
    assert done.returncode == 0, done.stdout[-3000:]
    assert pam.read_text() == SSHD_PAM
    again = run_pam_off(local_playbook, tmp_path, pam)
    assert again.returncode == 0 and "changed=0" in again.stdout and pam.read_text() == SSHD_PAM
