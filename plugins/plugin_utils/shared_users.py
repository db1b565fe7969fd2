"""shared_users.txt beside on_create.sh: one user per line, "name,uid[,home]", as HyperPod's reference
scripts read it. Every node creates these users with these UIDs (and a group of the same name and
number), so a bad line must stop every node before any of them changes: checked here, with the line number."""

import re

from ansible_collections.hyperpod.slurm.plugins.plugin_utils.inputs import ConfigError


USER_NAME_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
# Below 1000: system accounts; 65534: nobody; above 60000: Debian's and Ubuntu's reserved ranges.
USER_UID_MIN, USER_UID_MAX = 1000, 60000
RESERVED_USERS = {"root", "nobody", "slurm", "munge", "mysql", "daemon", "bin", "sys"}
USERS_FIX_FORMAT = "write one user per line as name,uid or name,uid,/home/path (e.g. alice,2001,/fsx/alice)"


def read_shared_users(path, problems):
    """[{name, uid, home}] from the users file; every bad line appended to problems."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        problems.append(ConfigError(path, None, f"cannot read the file ({e.strerror})", "check the path and permissions"))
        return []
    except UnicodeDecodeError:
        problems.append(ConfigError(path, None, "the file is not UTF-8 text", "save it as UTF-8 (or plain ASCII)"))
        return []
    users, names, uids = [], {}, {}
    for number, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        line = raw.strip()  # also drops the \r of a file saved on Windows
        if not line or line.startswith("#"):
            continue
        try:
            user = _shared_user(path, number, line)
        except ConfigError as e:
            problems.append(e)
            continue
        for key, seen in (("name", names), ("uid", uids)):
            if user[key] in seen:
                problems.append(ConfigError(path, f"line {number}", f"{key} {user[key]} is also on line {seen[user[key]]}",
                                            f"give every user its own {key}"))
            seen.setdefault(user[key], number)
        users.append(user)
    return users


def _shared_user(path, number, line):
    where = f"line {number}"
    fields = [f.strip() for f in line.split(",")]
    if len(fields) not in (2, 3):
        raise ConfigError(path, where, f"{line!r} has {len(fields)} field{'s' if len(fields) != 1 else ''}",
                          USERS_FIX_FORMAT)
    name, uid = fields[0], fields[1]
    if not USER_NAME_RE.match(name):
        raise ConfigError(path, where, f"{name!r} is not a valid user name",
                          "use 1-32 lowercase letters, digits, '_' or '-', starting with a letter or '_'")
    if name in RESERVED_USERS:
        raise ConfigError(path, where, f"{name!r} is a system account", "choose another name")
    if not uid.isdigit() or not USER_UID_MIN <= int(uid) <= USER_UID_MAX:
        raise ConfigError(path, where, f"uid {uid!r} of {name!r} is not a number from {USER_UID_MIN} to {USER_UID_MAX}",
                          "use a free UID in that range, the same the user has elsewhere (e.g. on FSx)")
    home = fields[2] if len(fields) == 3 else ""
    if home and (not home.startswith("/") or home.rstrip("/") in ("", "/home", "/fsx") or ".." in home.split("/")
                 or re.search(r"[\s:]", home)):
        raise ConfigError(path, where, f"home {home!r} of {name!r} is not an absolute path of its own",
                          f"use an absolute folder for this user, like /fsx/{name}, or leave the field out")
    return {"name": name, "uid": int(uid), "home": home.rstrip("/")}
