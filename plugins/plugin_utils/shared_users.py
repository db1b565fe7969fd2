"""shared_users.txt beside on_create.sh: one user per line, "name,uid[,home]", as HyperPod's reference
scripts read it. Every node creates these users with these UIDs (and a group of the same name and
number), and makes each user the owner of its home: a bad line must stop every node before any of
them changes, so it is checked here, with the line number. Users given in the bundle's settings
instead (a role's list of {name, uid, home}) get the same checks: check_users."""

import re

from ansible_collections.hyperpod.slurm.plugins.plugin_utils.fields import is_below, path_problem
from ansible_collections.hyperpod.slurm.plugins.plugin_utils.inputs import ConfigError, read_text, shown

USER_NAME_RE = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
UID_RE = re.compile(r"[0-9]{1,10}")  # ASCII digits: int() also reads '٢٠٠١' and ' 2001 '
# Below 1000: system accounts; 65534: nobody; above 60000: Debian's and Ubuntu's reserved ranges.
USER_UID_MIN, USER_UID_MAX = 1000, 60000
# Accounts of Debian's and Ubuntu's base system, and of the services the roles run.
RESERVED_USERS = {"root", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "uucp", "proxy",
                  "www-data", "backup", "list", "irc", "gnats", "nobody", "_apt", "messagebus", "syslog", "sshd",
                  "systemd-network", "systemd-resolve", "systemd-timesync", "systemd-coredump", "tss", "uuidd",
                  "polkitd", "lxd", "dnsmasq", "slurm", "munge", "mysql", "prometheus", "docker"}
# Where homes may be: below the shared file system's usual mount point (HyperPod's default
# FsxLustreConfig.MountPath, the fsx role's fsx_lustre_path) or below /home (OpenZFS's, and the
# system's own), never one of these folders itself.
HOME_ROOTS = ("/fsx", "/home")
USERS_FIX_FORMAT = "write one user per line as name,uid or name,uid,/home/path (e.g. alice,2001,/fsx/alice)"
# The fields read, as errors name them (tests/corpus checks that a bad input of each is refused).
FIELDS = ("name", "uid", "home")


def read_shared_users(path, problems):
    """[{name, uid, home}] from the users file; every bad line appended to problems."""
    try:
        text = read_text(path)
    except ConfigError as e:
        problems.append(e)
        return []
    users = []
    # split("\n"), not splitlines(): that also splits at \x0b, \x1c or U+2028, so line numbers
    # would not be an editor's.
    for number, raw in enumerate(text.lstrip("\ufeff").split("\n"), start=1):
        line = raw.strip(" \t\r")  # also drops the \r of a file saved on Windows
        if not line or line.startswith("#"):
            continue
        try:
            users.append((f"line {number}", _shared_user(path, f"line {number}", line)))
        except ConfigError as e:
            problems.append(e)
    problems.extend(_clashes(path, users, lambda where: "on " + where))
    return [user for _, user in users]


def check_users(source, var, users):
    """The problems of a list of users given in the bundle's settings (group_vars, host_vars, -e):
    the checks of the users file, each problem naming var[index]."""
    if not isinstance(users, list):
        return []  # the argument spec's type check reports it
    checked, problems = [], []
    for i, user in enumerate(users):
        where = f"{var}[{i}]"
        try:
            if not isinstance(user, dict):
                raise ConfigError(source, where, f"{shown(user)} is not a mapping", "write name:, uid: and home:")
            uid = user.get("uid")
            name = user.get("name")
            home = user.get("home") or ""
            if not isinstance(name, str) or not isinstance(home, str):
                raise ConfigError(source, where, "name and home must be strings", "quote them")
            checked.append((where, check_user(source, where, name, uid, home)))
        except ConfigError as e:
            problems.append(e)
    return problems + _clashes(source, checked, lambda where: "in " + where)


def _shared_user(path, where, line):
    fields = [f.strip() for f in line.split(",")]
    if len(fields) not in (2, 3):
        raise ConfigError(path, where, f"{shown(line)} has {len(fields)} field{'s' if len(fields) != 1 else ''}",
                          USERS_FIX_FORMAT)
    return check_user(path, where, fields[0], fields[1], fields[2] if len(fields) == 3 else "")


def check_user(path, where, name, uid, home):
    """One user: -> {name, uid, home} (home '' when not given, else without a trailing '/'), or ConfigError.
    uid: ASCII digits (a line of the users file), or a whole number (a settings file's YAML)."""
    if not USER_NAME_RE.fullmatch(name):
        raise ConfigError(path, where, f"{shown(name)} is not a valid user name",
                          "use 1-32 lowercase letters, digits, '_' or '-', starting with a letter or '_'")
    if name in RESERVED_USERS or name.startswith("systemd-"):
        raise ConfigError(path, where, f"{shown(name)} is a system account", "choose another name")
    number = uid if isinstance(uid, int) and not isinstance(uid, bool) else None  # YAML's, in a settings file
    if number is None and isinstance(uid, str) and UID_RE.fullmatch(uid):
        number = int(uid)
    if number is None or not USER_UID_MIN <= number <= USER_UID_MAX:
        raise ConfigError(path, where, f"uid {shown(uid)} of {shown(name)} is not a number from {USER_UID_MIN} to "
                          f"{USER_UID_MAX}", "use a free UID in that range, the same the user has elsewhere (e.g. on FSx)")
    return {"name": name, "uid": number, "home": check_home(path, where, name, home)}


def check_home(path, where, name, home):
    """A user's home: '' (the role's default), or an absolute, normalized folder below one of
    HOME_ROOTS, not one of them itself. The role makes the user the owner of this folder."""
    if not home:
        return ""
    trimmed = home.rstrip("/")
    fix = f"use a folder of this user's own below {' or '.join(HOME_ROOTS)}, like /fsx/{name}, or leave the field out"
    # Relative, or a root itself: the message that has always been given.
    if not home.startswith("/") or trimmed in ("",) + HOME_ROOTS:
        raise ConfigError(path, where, f"home {shown(home)} of {shown(name)} is not an absolute path of its own",
                          f"use an absolute folder for this user, like /fsx/{name}, or leave the field out")
    problem = path_problem(home)
    if problem is None and not any(is_below(trimmed, root) for root in HOME_ROOTS):
        problem = f"is not below {' or '.join(HOME_ROOTS)}"
    if problem:
        raise ConfigError(path, where, f"home {shown(home)} of {shown(name)} {problem}", fix)
    return trimmed


def _clashes(path, users, label):
    """Two users with one name, uid or home, or a home inside another's: [(where, user)] -> problems.
    One pass with dictionaries: a users file may hold thousands of lines."""
    problems, seen = [], {"name": {}, "uid": {}, "home": {}}
    for where, user in users:
        for key, values in seen.items():
            if user[key] in values and user[key] != "":
                _, other_where = values[user[key]]
                problems.append(ConfigError(path, where, f"{key} {user[key]} is also {label(other_where)}",
                                            f"give every user its own {key}"))
            values.setdefault(user[key], (user, where))
    homes = seen["home"]
    for home, (user, where) in homes.items():
        parent = home.rsplit("/", 1)[0]
        while parent and parent not in homes:
            parent = parent.rsplit("/", 1)[0]
        if parent:
            other, other_where = homes[parent]
            problems.append(ConfigError(path, where, f"home {home} of {user['name']} is inside the home of "
                                        f"{other['name']} ({label(other_where)})", "give every user a home of its own"))
    return problems
