"""What the cluster_access role makes of the cluster model: the SSH host patterns of the cluster's
node names, and the users file's lines of a list of users."""

import re

# HyperPod's Slurm names in legacy mode: ip-a-b-c-d. Every node of the cluster, present or added
# later, matches the one pattern; a node's own run knows only itself and the controllers.
HYPERPOD_NAME = re.compile(r"ip-[0-9]{1,3}-[0-9]{1,3}-[0-9]{1,3}-[0-9]{1,3}")
# What an ssh_config Host pattern may hold: names, wildcards; nothing that ends the line.
SAFE_PATTERN = re.compile(r"[A-Za-z0-9*?._-]+")


def ssh_host_patterns(names):
    """Host patterns for ssh_config, in order, without duplicates: ip-*-*-*-* for HyperPod's names,
    other names as they are; a name that is not a plain host name is dropped."""
    patterns = []
    for name in names:
        pattern = "ip-*-*-*-*" if HYPERPOD_NAME.fullmatch(str(name)) else str(name)
        if SAFE_PATTERN.fullmatch(pattern) and pattern not in patterns:
            patterns.append(pattern)
    return patterns


def shared_users_lines(users):
    """The users file's text ("name,uid[,home]" a line) of [{name, uid, home}]."""
    return "".join("%s,%s%s\n" % (u["name"], u["uid"], "," + u["home"] if u.get("home") else "") for u in users)


class FilterModule:
    """Cluster access."""

    def filters(self):
        return {"ssh_host_patterns": ssh_host_patterns, "shared_users_lines": shared_users_lines}
