"""Whether hyperpod.slurm.write_files would change anything, from one shell read of its paths.

The action hyperpod.slurm.write_files runs READ_SCRIPT over every path of its arguments and runs the
module (plugins/modules/write_files.py) only when `settled` says no: on a rerun every file is
already right, and a module run costs 0.15-0.2 s of CPU against a few hundredths for the read
(bench/RESULTS.md). Settled is decided as the module decides what to change; an argument the
module would refuse, or anything the read cannot tell, is the module's.
"""

import hashlib
import os

from ansible.module_utils.parsing.convert_bool import boolean

# The modules' own definitions: the bytes write_files writes for json, the bits home_folders gives
# the owner.
from ansible_collections.hyperpod.slurm.plugins.modules.home_folders import OWNER_BITS
from ansible_collections.hyperpod.slurm.plugins.modules.write_files import nice_json

# One line per path, in the order given (a path's own newlines never reach the output):
#   link TARGET | dir MODE USER GROUP UID GID | file MODE USER GROUP UID GID SHA256 | other | none
# Not following links (stat without -L); a file's hash from stdin, so its name is never escaped.
READ_SCRIPT = r"""
for p do
  if [ -L "$p" ]; then printf 'link %s\n' "$(readlink -- "$p")"
  elif [ -d "$p" ]; then printf 'dir %s\n' "$(stat -c '%a %U %G %u %g' -- "$p")"
  elif [ -f "$p" ]; then printf 'file %s %s\n' "$(stat -c '%a %U %G %u %g' -- "$p")" "$(sha256sum < "$p" | cut -c1-64)"
  elif [ -e "$p" ]; then echo other
  else echo none
  fi
done
"""


KINDS = {"link", "dir", "file", "other", "none"}


def paths(params):
    """Every path the read looks at, in one list: folders, files, links, absent."""
    return ([folder["path"] for folder in params.get("folders") or []]
            + [entry["dest"] for entry in params.get("files") or []]
            + [link["dest"] for link in params.get("links") or []]
            + list(params.get("absent") or []))


def parse(stdout, count):
    """The read's records, one list of words per path; None when it did not give one per path."""
    records = [line.split(" ") for line in stdout.split("\n")[:count]]
    if len(records) != count or any(record[0] not in KINDS for record in records):
        return None
    return records


def _owned_as_wanted(words, wanted):
    """words: MODE USER GROUP UID GID of a dir or file record."""
    mode, user, group, uid, gid = words[:5]
    try:
        if int(mode, 8) != int(str(wanted.get("mode")), 8):
            return False
    except ValueError:
        return False
    owner, grp = str(wanted.get("owner") or "root"), str(wanted.get("group") or "root")
    return owner in (user, uid) and grp in (group, gid)


def _content(entry):
    """The bytes the module writes for a file entry, or None when it would refuse the entry."""
    content, data = entry.get("content"), entry.get("json")
    if (content is None) == (data is None) or content is not None and not isinstance(content, str):
        return None
    text = content if content is not None else nice_json(data)
    try:
        return text.encode("utf-8", errors="strict")
    except UnicodeEncodeError:
        return None


def settled(params, records):
    """True when the module would change nothing for these arguments, the paths being as read."""
    if any(not isinstance(path, str) or not os.path.isabs(path) for path in paths(params)):
        return False
    records = iter(records)
    for folder in params.get("folders") or []:
        record = next(records)
        if record[0] != "dir" or len(record) != 6 or not _owned_as_wanted(record[1:], folder):
            return False
    for entry in params.get("files") or []:
        record = next(records)
        try:
            if not boolean(entry.get("force", True)) and record[0] != "none":
                continue  # left as it is
        except TypeError:
            return False
        data = _content(entry)
        if data is None or record[0] != "file" or len(record) != 7 or not _owned_as_wanted(record[1:6], entry):
            return False
        if record[6] != hashlib.sha256(data).hexdigest():
            return False
    for link in params.get("links") or []:
        record = next(records)
        if record[0] != "link" or " ".join(record[1:]) != str(link.get("src")):
            return False
    return all(next(records) == ["none"] for _ in params.get("absent") or [])


def homes_settled(homes, records):
    """True when hyperpod.slurm.home_folders would change nothing: each home a folder (not a link),
    owned by its user by name and by its gid, with the owner's read, write and search bits."""
    if not isinstance(homes, list) or len(homes) != len(records) or not homes:
        return False
    for entry, record in zip(homes, records):
        if not isinstance(entry, dict) or record[0] != "dir" or len(record) != 6:
            return False
        mode, user, _, _, gid = record[1:]
        if user != str(entry.get("name")) or gid != str(entry.get("gid")) or int(mode, 8) & OWNER_BITS != OWNER_BITS:
            return False
    return True
