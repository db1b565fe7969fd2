"""Filters that turn node names into Slurm hostlist expressions and NodeName groups."""

import re
from collections import OrderedDict


_NUMBERED = re.compile(r"^(.*?)(\d+)$")


def _padded(text):
    return len(text) > 1 and text.startswith("0")


def _follows(text, previous):
    """Whether text is the number after previous in one Slurm range: n[9-10] is n9,n10, but a
    zero-padded range keeps its width (n[08-10] is n08,n09,n10), so n09,n10 join and n9,n010 don't."""
    if int(text) != int(previous) + 1:
        return False
    if _padded(text) or _padded(previous):
        return len(text) == len(previous)
    return True


def _ranges(numbers):
    """Yield (first, last) runs of consecutive integers from a sorted list of numeric strings."""
    run = []
    for text in numbers:
        if run and _follows(text, run[-1]):
            run.append(text)
            continue
        if run:
            yield run[0], run[-1]
        run = [text]
    if run:
        yield run[0], run[-1]


def hostlist_compress(names):
    """Compress names sharing a prefix and differing in a trailing number: n1,n2,n3 -> n[1-3].

    Zero padding is kept (n01..n03 -> n[01-03]); names without a trailing number stay as they
    are. Order: prefixes in order of first appearance, numbers ascending.
    """
    groups = OrderedDict()
    for name in names:
        match = _NUMBERED.match(str(name))
        prefix, number = (match.group(1), match.group(2)) if match else (str(name), None)
        groups.setdefault(prefix, set())
        if number is not None:
            groups[prefix].add(number)
        else:
            groups[prefix].add("")
    parts = []
    for prefix, numbers in groups.items():
        if "" in numbers:
            parts.append(prefix)
            numbers = numbers - {""}
        if not numbers:
            continue
        ordered = sorted(numbers, key=lambda n: (int(n), len(n)))
        pieces = [a if a == b else "%s-%s" % (a, b) for a, b in _ranges(ordered)]
        if len(pieces) == 1 and "-" not in pieces[0]:
            parts.append(prefix + pieces[0])
        else:
            parts.append("%s[%s]" % (prefix, ",".join(pieces)))
    return ",".join(parts)


def slurm_node_groups(nodes):
    """Group node dicts by every key but 'name'; return one dict per group with names compressed.

    [{'name': 'c1', 'CPUs': 2}, {'name': 'c2', 'CPUs': 2}] -> [{'NodeName': 'c[1-2]', 'CPUs': 2}]
    """
    groups = OrderedDict()
    for node in nodes:
        attributes = tuple(sorted((k, v) for k, v in node.items() if k != "name"))
        groups.setdefault(attributes, []).append(node["name"])
    result = []
    for attributes, names in groups.items():
        line = OrderedDict(NodeName=hostlist_compress(names))
        line.update(attributes)
        result.append(dict(line))
    return result


class FilterModule:
    """Slurm hostlist filters."""

    def filters(self):
        # Node names come from the inventory: the results are marked unsafe like it (see
        # plugin_utils/unsafe.py). Imported here, so that the functions above need no Ansible.
        from ansible_collections.hyperpod.slurm.plugins.plugin_utils.unsafe import returns_unsafe

        return {
            "hostlist_compress": returns_unsafe(hostlist_compress),
            "slurm_node_groups": returns_unsafe(slurm_node_groups),
        }
