"""What the actions hyperpod.slurm.getent and hyperpod.slurm.slurp make of one shell read: the
result of ansible.builtin.getent and ansible.builtin.slurp, without their module run (0.15-0.2 s of
CPU each, bench/RESULTS.md). The cases the read covers; every other is the module's."""

import base64
import shlex

# getent's databases whose fields the module splits on ':' by itself.
COLON_DATABASES = ("passwd", "shadow", "group", "gshadow")


def getent_command(args):
    """The command for a whole colon database (only `database` given), else None."""
    database = args.get("database")
    if set(args) != {"database"} or database not in COLON_DATABASES:
        return None
    return "getent " + shlex.quote(database)


def getent_facts(database, stdout):
    """The module's ansible_facts: getent_<database>, each name to its fields (a list of those
    lists where a name comes more than once), from getent's output."""
    table, seen = {}, {}
    for line in stdout.splitlines():
        record = line.split(":")
        name = record[0]
        if name in seen:
            if seen[name] == 1:
                table[name] = [table[name]]
            table[name].append(record[1:])
            seen[name] += 1
        else:
            table[name] = record[1:]
            seen[name] = 1
    return {"getent_" + database: table}


def slurp_command(args):
    """The command for a file's bytes in base64 on one line (only `src` given, absolute), else None."""
    src = args.get("src")
    if set(args) != {"src"} or not isinstance(src, str) or not src.startswith("/"):
        return None
    return "[ -f {0} ] && base64 -w 0 < {0}".format(shlex.quote(src))


def slurp_result(args, stdout):
    """The module's result, or None when the output is not base64."""
    content = stdout.strip()
    try:
        base64.b64decode(content, validate=True)
    except ValueError:
        return None
    return {"changed": False, "content": content, "source": args["src"], "encoding": "base64"}
