"""The shared users' home folders (plugins/modules/home_folders.py), made on real folders of this
host as root: missing ones made with their parents, owner, group and the owner's bits set while the
rest of the mode stays, a second run changes nothing, check mode touches nothing, and a home that is
a symbolic link or a file stops the module before any home is touched. Also run once through
ansible-playbook with entries as the home_moves filter makes them (gid a string, an old home)."""

import json
import os
import pwd
import subprocess
import sys
from pathlib import Path

import pytest
from ansible_collections.hyperpod.slurm.plugins.modules import home_folders

REPO = Path(__file__).resolve().parents[2]
USER = pwd.getpwnam("nobody")
GID = 4321  # no group needed: groups are numbers


def mode(path):
    return os.stat(path).st_mode & 0o7777


def test_makes_owns_and_then_leaves_alone(tmp_path):
    new, existing = tmp_path / "fsx" / "home" / "nobody", tmp_path / "old-home"
    existing.mkdir(mode=0o500)
    os.chmod(existing, 0o2550)  # the user's own choice of bits beyond u+rwx stays
    homes = [{"name": "nobody", "home": str(new), "gid": GID}, {"name": "nobody", "home": str(existing), "gid": GID}]
    assert home_folders.apply(homes, dry=True) == [str(new), str(existing)]
    assert not new.exists() and mode(existing) == 0o2550
    assert home_folders.apply(homes) == [str(new), str(existing)]
    for path in (new, existing):
        st = os.stat(path)
        assert (st.st_uid, st.st_gid) == (USER.pw_uid, GID)
    assert mode(existing) == 0o2750 and mode(new) & 0o700 == 0o700
    assert os.stat(new.parent).st_uid == 0  # the parents made are root's
    assert home_folders.apply(homes) == []


@pytest.mark.parametrize("kind", ["symbolic link", "file"])
def test_a_home_that_is_not_a_folder_stops_everything(tmp_path, kind):
    first, bad = tmp_path / "first", tmp_path / "bad"
    if kind == "file":
        bad.write_text("x")
    else:
        (tmp_path / "etc").mkdir()
        bad.symlink_to(tmp_path / "etc")
    homes = [{"name": "nobody", "home": str(first), "gid": GID}, {"name": "nobody", "home": str(bad), "gid": GID}]
    with pytest.raises(home_folders.HomeError, match="nobody's home %s is %s" % (bad, "a symbolic link" if kind != "file" else "not a folder")):
        home_folders.apply(homes)
    assert not first.exists()  # checked before anything changed
    assert os.stat(tmp_path / "etc" if kind != "file" else bad).st_uid == 0


def test_an_unknown_user_stops_everything(tmp_path):
    with pytest.raises(home_folders.HomeError, match="user hpb-no-such-user does not exist"):
        home_folders.apply([{"name": "nobody", "home": str(tmp_path / "a"), "gid": GID},
                            {"name": "hpb-no-such-user", "home": str(tmp_path / "b"), "gid": GID}])
    assert not (tmp_path / "a").exists()


def test_through_ansible_with_the_home_moves_entries(tmp_path, repo_collections):
    home = tmp_path / "homes" / "nobody"
    play = tmp_path / "play.yml"
    play.write_text(json.dumps([{"hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": [
        {"name": "Make the home folders", "hyperpod.slurm.home_folders": {"homes": [
            {"name": "nobody", "gid": str(GID), "home": str(home), "old": "/nonexistent"}]}}]}]))
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([str(repo_collections), str(REPO / ".collections")]))
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", str(play),
               "-e", "ansible_python_interpreter=" + sys.executable]
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0 and "changed=1" in done.stdout, done.stdout + done.stderr
    assert os.stat(home).st_uid == USER.pw_uid and os.stat(home).st_gid == GID
    # The rerun: its action's one shell read finds the home as asked, and no module runs.
    remote = tmp_path / "remote"
    keeping = dict(env, ANSIBLE_KEEP_REMOTE_FILES="1", ANSIBLE_REMOTE_TMP=str(remote))
    done = subprocess.run(command, env=keeping, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0 and "changed=0" in done.stdout, done.stdout + done.stderr
    assert not list(remote.rglob("AnsiballZ_home_folders.py"))
    os.chmod(home, 0o500)  # the owner's bits gone: the module runs and gives them back
    done = subprocess.run(command, env=keeping, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0 and "changed=1" in done.stdout and os.stat(home).st_mode & 0o700 == 0o700
    assert len(list(remote.rglob("AnsiballZ_home_folders.py"))) == 1
