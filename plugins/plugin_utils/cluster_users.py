"""hyperpod-users: the shared users of a running cluster, added, updated and removed with one command.

The list is the lifecycle's own format (shared_users.txt: "name,uid[,home]" a line), kept on the
shared file system beside a second file of removed users ("name,uid" a line). Both are read with
the lifecycle's reader (plugin_utils/shared_users.py), so a bad line stops the command, and every
node's apply, before anything changes. Every node applies the list within a minute (the
cluster_access role's timer runs `hyperpod-users apply`): the same name, UID, GID and home
everywhere; removed users locked (password and account expiry), their homes kept.

Installed by roles/cluster_access as /usr/local/sbin/hyperpod-users with its settings in
/etc/hyperpod-users.json; the collection's files it imports are copied beside it.
"""

import argparse
import fcntl
import grp
import json
import os
import pwd
import stat
import subprocess
import sys
import tempfile
import time

from ansible_collections.hyperpod.slurm.plugins.filter.shared_users import shared_user_conflicts
from ansible_collections.hyperpod.slurm.plugins.plugin_utils.inputs import ConfigError
from ansible_collections.hyperpod.slurm.plugins.plugin_utils.shared_users import check_user, read_shared_users

CONFIG = "/etc/hyperpod-users.json"
HEADER = "# Shared users of this cluster: name,uid[,home]. Edited by hyperpod-users; read by every node.\n"
REMOVED_HEADER = "# Users removed by hyperpod-users: locked on every node, homes kept. name,uid\n"
KEY = ".ssh/id_ed25519"


class Stop(Exception):
    """A problem that stops the command before any change; the message says what to do."""


# ---------------------------------------------------------------- the lists

def read_lists(users_file, removed_file):
    """([{name, uid, home}], [{name, uid, home}]) of both files; Stop naming every bad line."""
    problems = []
    users = read_shared_users(users_file, problems) if os.path.exists(users_file) else []
    removed = read_shared_users(removed_file, problems) if os.path.exists(removed_file) else []
    names = {u["name"] for u in users}
    problems += [ConfigError(removed_file, u["name"], "is also in " + users_file, "keep the user in one of the two files")
                 for u in removed if u["name"] in names]
    if problems:
        raise Stop("\n".join(str(p) for p in problems))
    return users, removed


def render(users, header=HEADER):
    """The file's text for [{name, uid, home}]."""
    return header + "".join("%s,%s%s\n" % (u["name"], u["uid"], "," + u["home"] if u.get("home") else "")
                            for u in users)


def with_user(users, removed, name, uid, home):
    """(users, removed) with name added, or its home updated. Its UID never changes: files on the
    shared file system carry it. A removed user comes back with the same UID only."""
    user = check_user("hyperpod-users add", name, name, str(uid), home or "")
    for known in users + removed:
        if known["name"] == name and known["uid"] != user["uid"]:
            raise Stop("hyperpod-users: %s has UID %s in the cluster's list, not %s; a user's UID never changes "
                       "(files on the shared file system carry it): give the old UID, or another name"
                       % (name, known["uid"], user["uid"]))
    old = next((u for u in users if u["name"] == name), None)
    if old and not home:
        user["home"] = old["home"]
    users = [user if u["name"] == name else u for u in users] if old else users + [user]
    return users, [u for u in removed if u["name"] != name]


def without_user(users, removed, name):
    """(users, removed) with name moved to the removed users."""
    found = [u for u in users if u["name"] == name]
    if not found:
        if any(u["name"] == name for u in removed):
            return users, removed
        raise Stop("hyperpod-users: %s is not in the cluster's list of users; see `hyperpod-users list`" % name)
    return [u for u in users if u["name"] != name], removed + [{"name": name, "uid": found[0]["uid"], "home": ""}]


def write_checked(path, text):
    """Write text to path atomically, after reading it back with the lifecycle's reader."""
    folder = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".hyperpod-users-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, 0o644)
        problems = []
        read_shared_users(tmp, problems)
        if problems:
            raise Stop("\n".join(str(p) for p in problems))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# ---------------------------------------------------------------- one node

def accounts():
    """This node's passwd and group as the getent facts shape them."""
    passwd = {p.pw_name: ["x", str(p.pw_uid), str(p.pw_gid), p.pw_gecos, p.pw_dir, p.pw_shell] for p in pwd.getpwall()}
    group = {g.gr_name: ["x", str(g.gr_gid), ",".join(g.gr_mem)] for g in grp.getgrall()}
    return passwd, group


def home_of(user, home_root):
    return user.get("home") or "%s/%s" % (home_root, user["name"])


def below_any(path, tops):
    return any(path == top or path.startswith(top.rstrip("/") + "/") for top in tops)


def plan(users, removed, passwd, group, settings, locked=frozenset()):
    """[(action, name, args)] that bring this node's accounts to the lists; Stop on a clash with an
    account of the node (the lifecycle's shared_user_conflicts). locked: names locked now."""
    problems = shared_user_conflicts(users, passwd, group)
    if problems:
        raise Stop("hyperpod-users: the cluster's users clash with accounts of this node: %s. Remove the local "
                   "accounts, or give the users other UIDs with the same name nowhere else" % "; ".join(problems))
    steps = []
    for user in users:
        name, uid, home = user["name"], user["uid"], home_of(user, settings["home_root"])
        if name not in group:
            steps.append(("groupadd", name, [uid]))
        if name not in passwd:
            steps.append(("useradd", name, [uid, home]))
        elif passwd[name][4] != home:
            steps.append(("usermod_home", name, [home]))
        if name in locked:
            steps.append(("unlock", name, []))
    for user in removed:
        if user["name"] in passwd and int(passwd[user["name"]][1]) == user["uid"] and user["name"] not in locked:
            steps.append(("lock", user["name"], []))
    return steps


def locked_names(names):
    """The names whose account expired on day 1 (usermod --expiredate 1, as lock does)."""
    found = set()
    try:
        with open("/etc/shadow", encoding="utf-8") as shadow:
            for line in shadow:
                fields = line.rstrip("\n").split(":")
                if len(fields) > 7 and fields[0] in names and fields[7] == "1":
                    found.add(fields[0])
    except OSError:
        pass
    return found


COMMANDS = {
    "groupadd": lambda name, uid: ["groupadd", "--gid", str(uid), name],
    "useradd": lambda name, uid, home, shell: ["useradd", "--uid", str(uid), "--gid", str(uid), "--home-dir", home,
                                               "--no-create-home", "--shell", shell, name],
    "usermod_home": lambda name, home: ["usermod", "--home", home, name],
    # Expiry, not a password lock: it refuses SSH keys too (PAM's account check), and undoing it
    # never leaves a password-less account, as unlocking a never-set password would.
    "lock": lambda name: ["usermod", "--expiredate", "1", name],
    "unlock": lambda name: ["usermod", "--expiredate", "", name],
}


def run_step(step, settings, run=subprocess.run):
    action, name, args = step
    if action == "useradd":
        args = args + [settings["shell"]]
    run(COMMANDS[action](name, *args), check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if action == "useradd":
        make_home(args[1], name)


def make_home(home, name):
    """The home folder, made by root only where nothing is yet (another node may have made it on the
    shared file system): never chown a path that exists, which could be a user's link."""
    entry = pwd.getpwnam(name)
    os.makedirs(os.path.dirname(home), mode=0o755, exist_ok=True)
    try:
        os.mkdir(home, 0o700)
    except FileExistsError:
        return
    os.chown(home, entry.pw_uid, entry.pw_gid, follow_symlinks=False)


def needs_key(home):
    """Whether the user's key pair or authorized_keys is missing (lstat only: nothing followed)."""
    for name in (KEY, KEY + ".pub", ".ssh/authorized_keys"):
        try:
            if not stat.S_ISREG(os.lstat(os.path.join(home, name)).st_mode):
                return True
        except OSError:
            return True
    return False


NOFOLLOW_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW


def _own(fd, uid, gid):
    """A file of the user's own (fstat'ed, not looked up by name), owned by it: one link only, so
    never another file's second name."""
    info = os.fstat(fd)
    if info.st_nlink > 1 and stat.S_ISREG(info.st_mode):
        raise Stop("hyperpod-users: a file in a user's ~/.ssh has several links; left alone")
    if (info.st_uid, info.st_gid) != (uid, gid):
        os.fchown(fd, uid, gid)


def _write_new(dir_fd, name, data, mode, uid, gid):
    """name created in dir_fd (O_EXCL: the first writer wins, another node's key is kept)."""
    try:
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode, dir_fd=dir_fd)
    except FileExistsError:
        return False
    try:
        os.write(fd, data)
        _own(fd, uid, gid)
        os.fchmod(fd, mode)
    finally:
        os.close(fd)
    return True


def _read(dir_fd, name):
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=dir_fd)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise Stop("hyperpod-users: ~/.ssh/%s is not a file; left alone" % name)
        return os.read(fd, 1 << 20)
    finally:
        os.close(fd)


def _exists(dir_fd, name):
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        return True
    except FileNotFoundError:
        return False


def _new_key(ssh_fd, key_name, uid, gid, name, run):
    """A key pair made where the user cannot reach (root's own temporary folder), then written into
    ~/.ssh unless another node's came first."""
    with tempfile.TemporaryDirectory() as tmp:
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "%s@cluster" % name, "-f", tmp + "/key"],
            check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        with open(tmp + "/key", "rb") as f:
            private = f.read()
        with open(tmp + "/key.pub", "rb") as f:
            public = f.read()
    if _write_new(ssh_fd, key_name, private, 0o600, uid, gid):
        _write_new(ssh_fd, key_name + ".pub", public, 0o644, uid, gid)


def _public_key(ssh_fd, key_name, uid, gid, run, waits=10):
    """The public key beside the private one. Another node may have written the private key and be
    about to write the public one: wait a little, then derive it from the private key."""
    for _ in range(waits):
        try:
            return _read(ssh_fd, key_name + ".pub")
        except FileNotFoundError:
            time.sleep(0.5)
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.open(tmp + "/key", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            f.write(_read(ssh_fd, key_name))
        public = run(["ssh-keygen", "-y", "-f", tmp + "/key"], check=True, stdin=subprocess.DEVNULL,
                     stdout=subprocess.PIPE).stdout.strip() + b"\n"
    _write_new(ssh_fd, key_name + ".pub", public, 0o644, uid, gid)
    return _read(ssh_fd, key_name + ".pub")


def ssh_setup(home, uid, gid, name, run=subprocess.run):
    """As root, in a folder the user controls, never following a link the user placed (every file
    opened relative to its folder with O_NOFOLLOW, as plugins/modules/home_copy.py does): ~/.ssh,
    a key pair made once (another node at the same moment, or a rerun, keeps the first), its public
    key in authorized_keys; everything the user's, the private key 0600."""
    home_fd = os.open(home, NOFOLLOW_DIR)
    try:
        try:
            os.mkdir(".ssh", 0o700, dir_fd=home_fd)
        except FileExistsError:
            pass
        ssh_fd = os.open(".ssh", NOFOLLOW_DIR, dir_fd=home_fd)
    finally:
        os.close(home_fd)
    try:
        _own(ssh_fd, uid, gid)
        os.fchmod(ssh_fd, 0o700)
        key_name = os.path.basename(KEY)
        try:
            public = _read(ssh_fd, key_name + ".pub")
        except FileNotFoundError:
            if not _exists(ssh_fd, key_name):
                _new_key(ssh_fd, key_name, uid, gid, name, run)
            public = _public_key(ssh_fd, key_name, uid, gid, run)
        line = public.strip()
        fd = os.open("authorized_keys", os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600, dir_fd=ssh_fd)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise Stop("hyperpod-users: ~/.ssh/authorized_keys of %s is not a file; left alone" % name)
            _own(fd, uid, gid)
            os.fchmod(fd, 0o600)
            present = os.pread(fd, 1 << 20, 0)
            if line not in [existing.strip() for existing in present.splitlines()]:
                os.write(fd, (b"\n" if present and not present.endswith(b"\n") else b"") + line + b"\n")
        finally:
            os.close(fd)
    finally:
        os.close(ssh_fd)


def ensure_keys(name, settings, run=subprocess.run):
    """The user's key pair; only for homes on the shared file system (keys of node-local homes would
    differ from node to node). True when something was missing."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return False
    home = entry.pw_dir
    if not below_any(home, settings["shared_paths"]) or not os.path.isdir(home) or not needs_key(home):
        return False
    ssh_setup(home, entry.pw_uid, entry.pw_gid, name, run)
    return True


def shared_ready(settings, users):
    """Whether every shared path a home is below is mounted: homes are never made on the bare mount point."""
    homes = [home_of(u, settings["home_root"]) for u in users]
    return all(os.path.ismount(top) for top in settings["shared_paths"] if any(below_any(h, [top]) for h in homes))


def apply(settings, run=subprocess.run, lock_path="/run/hyperpod-users.lock"):
    """Bring this node to the lists, one apply at a time on the node (the timer's and a command's).
    -> the list of changes, one line each."""
    with open(lock_path, "a", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _apply(settings, run)


def _apply(settings, run):
    users, removed = read_lists(settings["users_file"], settings["removed_file"])
    if not shared_ready(settings, users):
        raise Stop("hyperpod-users: the shared file system (%s) is not mounted; nothing changed"
                   % ", ".join(settings["shared_paths"]))
    passwd, group = accounts()
    steps = plan(users, removed, passwd, group, settings, locked_names({u["name"] for u in users + removed}))
    changes = []
    for step in steps:
        run_step(step, settings, run)
        changes.append("%s %s" % (step[0], step[1]))
    ssh_users = [u["name"] for u in users] + [n for n in settings.get("ssh_users", []) if n in passwd]
    for name in ssh_users if settings.get("ssh_keys", True) else []:
        if ensure_keys(name, settings, run):
            changes.append("ssh key %s" % name)
    return changes


def sacctmgr_path():
    """HyperPod's sacctmgr (/opt/slurm/bin is on no service's PATH), else the distribution's."""
    return "/opt/slurm/bin/sacctmgr" if os.path.exists("/opt/slurm/bin/sacctmgr") else "sacctmgr"


def associate(name, account, run=subprocess.run, sacctmgr="sacctmgr"):
    """The user's accounting association, when this cluster has accounting. -> a line to print."""
    try:
        shown = run([sacctmgr, "--noheader", "--parsable2", "show", "associations", "user=" + name, "format=account"],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except FileNotFoundError:
        return "accounting: no sacctmgr on this node; no association added"
    if shown.returncode != 0:
        said = shown.stderr.strip().splitlines() or ["no answer"]
        return "accounting: not reachable here (%s); no association added" % said[-1]
    if account in shown.stdout.split():
        return "accounting: %s already in account %s" % (name, account)
    run([sacctmgr, "--immediate", "add", "user", name, "account=" + account], check=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return "accounting: %s added to account %s" % (name, account)


# ---------------------------------------------------------------- the command

def load_settings(path=CONFIG):
    with open(path, encoding="utf-8") as f:
        settings = json.load(f)
    folder = settings["users_dir"]
    settings.setdefault("users_file", os.path.join(folder, "shared_users.txt"))
    settings.setdefault("removed_file", os.path.join(folder, "removed_users.txt"))
    return settings


def edit(settings, change):
    """Apply change(users, removed) -> (users, removed) to the files, under a lock held across nodes."""
    with open(os.path.join(settings["users_dir"], ".lock"), "a", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        users, removed = read_lists(settings["users_file"], settings["removed_file"])
        users, removed = change(users, removed)
        write_checked(settings["users_file"], render(users))
        write_checked(settings["removed_file"], render(removed, REMOVED_HEADER))


def main(argv, settings=None):
    parser = argparse.ArgumentParser(prog="hyperpod-users", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the cluster's users and removed users")
    add = sub.add_parser("add", help="add a user, or change its home (a removed user comes back)")
    add.add_argument("name")
    add.add_argument("uid")
    add.add_argument("home", nargs="?", default="")
    remove = sub.add_parser("remove", help="lock a user on every node; its home stays")
    remove.add_argument("name")
    sub.add_parser("apply", help="bring this node to the list (every node's timer runs this)")
    args = parser.parse_args(argv)
    try:
        settings = settings or load_settings()
        if args.command == "list":
            users, removed = read_lists(settings["users_file"], settings["removed_file"])
            sys.stdout.write(render(users) + render(removed, REMOVED_HEADER))
            return 0
        if args.command == "add":
            edit(settings, lambda u, r: with_user(u, r, args.name, args.uid, args.home))
        elif args.command == "remove":
            edit(settings, lambda u, r: without_user(u, r, args.name))
        for line in apply(settings):
            print("changed: " + line)
        if args.command == "add" and settings.get("accounting_account"):
            print(associate(args.name, settings["accounting_account"], sacctmgr=sacctmgr_path()))
        if args.command in ("add", "remove"):
            print("Every node applies the change within a minute (hyperpod-users-apply.timer).")
        return 0
    except (Stop, ConfigError) as e:
        print(str(e), file=sys.stderr)
        return 2
    except (OSError, subprocess.CalledProcessError) as e:
        print("hyperpod-users: %s" % e, file=sys.stderr)
        return 1
