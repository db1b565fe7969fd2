"""What the shared_users role makes of the users file and this node's accounts (the getent facts:
{name: [password, uid, gid, gecos, home, shell]} and {name: [password, gid, members]}). Each is linear
in users plus accounts: the accounts are indexed by number once, not searched per user."""


def _number(value):
    """getent's field as a number, 0 where it is none (as Jinja's int filter reads it)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _by_number(entries, field):
    """{number: [names]} of getent entries, in their order."""
    index = {}
    for name, entry in entries.items():
        index.setdefault(_number(entry[field]), []).append(name)
    return index


def shared_user_conflicts(users, passwd, group):
    """Each way a shared user ({name, uid}) clashes with an account of this node, one sentence each:
    its name with another UID or GID, or its number held by another user or group."""
    uids, gids = _by_number(passwd, 1), _by_number(group, 1)
    found = []
    for user in users:
        name, uid = user["name"], _number(user["uid"])
        for kind, entries, index, number in (("user", passwd, uids, "UID"), ("group", group, gids, "GID")):
            if name in entries and _number(entries[name][1]) != uid:
                found.append("%s %s has %s %s, not %s" % (kind, name, number, entries[name][1], user["uid"]))
            found += ["%s %s of %s belongs to %s %s" % (number, user["uid"], name, kind, other)
                      for other in index.get(uid, []) if other != name]
    return found


def shared_user_homes(users, root):
    """{name: home}: a user's own home (the users file's third field), else <root>/<name>."""
    return {user["name"]: user.get("home") or "%s/%s" % (root, user["name"]) for user in users}


def within_paths(path, paths):
    """Whether path is one of paths or below one of them."""
    return any(path == top or path.startswith(top.rstrip("/") + "/") for top in paths)


def home_moves(homes, passwd, default_user="", root=""):
    """[{name, gid, home, old}] for every existing account of homes ({name: home}), and with
    default_user its home at <root>/<default_user> unless homes names it (the users file wins); old
    is the home it moves from, empty when it is already there."""
    wanted = dict(homes)
    if default_user and default_user not in wanted:
        wanted[default_user] = "%s/%s" % (root, default_user)
    moves = []
    for name, home in wanted.items():
        if name in passwd:
            old = passwd[name][4]
            moves.append({"name": name, "gid": passwd[name][2], "home": home, "old": old if old != home else ""})
    return moves


class FilterModule:
    """Shared users and their homes."""

    def filters(self):
        return {
            "shared_user_conflicts": shared_user_conflicts,
            "shared_user_homes": shared_user_homes,
            "within_paths": within_paths,
            "home_moves": home_moves,
        }
