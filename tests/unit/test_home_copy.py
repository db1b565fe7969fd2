"""The home move's copy (plugins/modules/home_copy.py), on real folders of this host as root: what
is missing is copied with owners and modes, nothing is overwritten, and no link the user placed in
either home is followed."""

import os

import pytest
from ansible_collections.hyperpod.slurm.plugins.modules import home_copy

USER = 4321  # no account needed: owners are numbers


@pytest.fixture
def homes(tmp_path):
    old, new, outside = tmp_path / "old", tmp_path / "new", tmp_path / "root-only"
    for folder in (old, new, outside):
        folder.mkdir()
    (old / ".ssh").mkdir(mode=0o700)
    (old / ".ssh" / "authorized_keys").write_text("ssh-ed25519 AAAA user\n")
    (old / "notes.txt").write_text("mine\n")
    (old / "link-to-notes").symlink_to("notes.txt")
    for path in (old / ".ssh", old / ".ssh" / "authorized_keys", old / "notes.txt"):
        os.chown(path, USER, USER)
    os.chmod(old / "notes.txt", 0o640)
    os.chown(old / "link-to-notes", USER, USER, follow_symlinks=False)
    (old / "root-secret").write_text("root's\n")
    os.chmod(old / "root-secret", 0o600)
    return old, new, outside


def test_copies_what_is_missing_with_owners_modes_and_links(homes):
    old, new, _ = homes
    result = home_copy.copy_home(str(old), str(new))
    assert result.copied == 5 and result.skipped == []
    assert (new / ".ssh" / "authorized_keys").read_text() == "ssh-ed25519 AAAA user\n"
    st = (new / "notes.txt").stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (USER, USER, 0o640)
    assert ((new / ".ssh").stat().st_uid, (new / ".ssh").stat().st_mode & 0o777) == (USER, 0o700)
    assert os.readlink(new / "link-to-notes") == "notes.txt" and os.lstat(new / "link-to-notes").st_uid == USER
    secret = (new / "root-secret").stat()
    assert (secret.st_uid, secret.st_mode & 0o777) == (0, 0o600)  # still unreadable to the user


def test_nothing_is_overwritten_and_a_second_copy_changes_nothing(homes):
    old, new, _ = homes
    (new / "notes.txt").write_text("copied by another node\n")
    home_copy.copy_home(str(old), str(new))
    assert (new / "notes.txt").read_text() == "copied by another node\n"
    assert home_copy.copy_home(str(old), str(new)).copied == 0


def test_a_link_the_user_placed_in_the_new_home_is_not_followed(homes):
    old, new, outside = homes
    (new / ".ssh").symlink_to(outside)  # .ssh -> a root-only folder
    result = home_copy.copy_home(str(old), str(new))
    assert result.skipped == [".ssh"] and list(outside.iterdir()) == []


def test_a_link_in_the_old_home_is_copied_as_a_link_not_read(homes):
    old, new, outside = homes
    (outside / "shadow").write_text("root's secret\n")
    (old / "stolen").symlink_to(outside / "shadow")
    home_copy.copy_home(str(old), str(new))
    assert os.path.islink(new / "stolen") and os.readlink(new / "stolen") == str(outside / "shadow")


def test_a_new_home_that_is_a_link_fails(homes, tmp_path):
    old, _, outside = homes
    (tmp_path / "linked-home").symlink_to(outside)
    with pytest.raises(OSError):
        home_copy.copy_home(str(old), str(tmp_path / "linked-home"))
    assert list(outside.iterdir()) == []


def test_check_mode_counts_and_creates_nothing(homes):
    old, new, _ = homes
    assert home_copy.copy_home(str(old), str(new), dry=True).copied == 4  # .ssh counted, not entered
    assert list(new.iterdir()) == []


def test_a_missing_old_home_is_nothing_to_do(tmp_path):
    assert home_copy.copy_home(str(tmp_path / "absent"), str(tmp_path)).copied == 0
