"""Reading the cluster's input files, and the error a person reads about them.

Every input file is hostile until checked: it may be a pipe or a device (reading would hang or never
end), huge, nested deeper than Python recurses, or not UTF-8; a value shown back in an error may be
megabytes long or hold newlines and terminal escapes. Everything here ends in a ConfigError, one
printable line of bounded length.

Plain Python: bootstrap.py, workstation/ and the tests import it without Ansible's plugin loader
(see lifecycle/collection.py), the inventory plugin and the filters through it.
"""

import json
import os
import reprlib
import stat

# The largest input files read. resource_config.json of 10,000 nodes is about 2.5 MB (bench/); the
# users file of 20,000 users about 0.6 MB. Anything larger is the wrong file, or an attack.
MAX_JSON_BYTES = 10_000_000
MAX_TEXT_BYTES = 1_000_000
# HyperPod's files nest 6 levels (InstanceGroups[].Instances[].InstanceLabel); Python's json parser
# stops with a RecursionError near 1,000, and everything that walks the data later recurses too.
MAX_JSON_DEPTH = 32
# A value shown back in an error: enough for any valid value (a 64-character partition name, quoted).
SHOWN_CHARS = 80
# The longest error line: a person reads it, CloudWatch keeps it.
MAX_LINE = 1000

_FILE_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
               (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
               (stat.S_ISSOCK, "a socket"))


class ConfigError(Exception):
    """An input problem, shown to a person as one line: FILE: FIELD: PROBLEM; FIX."""

    def __init__(self, path, field, problem, fix):
        self.path, self.field, self.problem, self.fix = str(path), field, problem, fix
        where = f"{self.path}: {field}" if field else self.path
        # The last guard: whatever a caller put in, one printable line of bounded length.
        super().__init__(one_line(printable(f"{where}: {problem}; {fix}"), MAX_LINE))


class ConfigWarning(ConfigError):
    """Worth a look, but the cluster would work (`validate` lists these; nodes do not stop)."""


def printable(text):
    """text with every unprintable character (newlines, terminal escapes, bidi overrides) escaped."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


_SHOWN = reprlib.Repr()
_SHOWN.maxstring = _SHOWN.maxother = SHOWN_CHARS
_SHOWN.maxlist = _SHOWN.maxdict = 4
_SHOWN.maxlevel = 2


def shown(value):
    """A value from an input file as an error shows it: Python's repr (quoted, unprintable characters
    escaped), at most SHOWN_CHARS characters, '...' in the middle of a longer one."""
    text = _SHOWN.repr(value)  # cuts each string; an array of them may still be long
    if len(text) > SHOWN_CHARS:
        half = (SHOWN_CHARS - 3) // 2
        text = text[:half] + "..." + text[-half:]
    return text


def listed(names, most=10):
    """Names for an error line: at most `most` of them, then how many more."""
    names = list(names)
    more = f", and {len(names) - most} more" if len(names) > most else ""
    return ", ".join(str(n) for n in names[:most]) + more


def read_input(path, limit):
    """The bytes of a regular file of at most limit bytes, else ConfigError. A FIFO, a device or a
    folder is refused before a byte is read: opening a FIFO would wait for a writer, /dev/zero never ends."""
    try:
        # O_NONBLOCK: the open of a FIFO returns at once (no writer to wait for); no effect on files.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        raise ConfigError(path, None, f"cannot read the file ({e.strerror})",
                          "check the path and permissions") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = next((name for test, name in _FILE_KINDS if test(mode)), "something else")
        raise ConfigError(path, None, f"is {kind}, not a regular file", "give the path of a regular file")
    with os.fdopen(fd, "rb") as f:
        try:
            data = f.read(limit + 1)  # files of /proc say size 0: count what is read, not st_size
        except OSError as e:
            raise ConfigError(path, None, f"cannot read the file ({e.strerror})",
                              "check the path and permissions") from None
    if len(data) > limit:
        size = f"{limit // 1_000_000} MB" if limit >= 1_000_000 else f"{limit // 1000} kB"
        raise ConfigError(path, None, f"the file is larger than {size}",
                          "check that it is the right file: the cluster's input files are much smaller")
    return data


def read_text(path, limit=MAX_TEXT_BYTES):
    """A UTF-8 text file of at most limit bytes (read_input), else ConfigError."""
    try:
        return read_input(path, limit).decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(path, None, "the file is not UTF-8 text", "save it as UTF-8 (or plain ASCII)") from None


def read_json(path, array_ok=False):
    """A JSON file holding one object (or, with array_ok, an array), else ConfigError."""
    try:
        text = read_input(path, MAX_JSON_BYTES).decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(path, None, "the file is not UTF-8 text", "save it as UTF-8 JSON") from None
    # Three mistakes that JSON's own message explains badly: an empty file, an editor's byte order
    # mark (which other readers of the file, HyperPod's among them, may refuse), a file cut short.
    if not text.strip():
        raise ConfigError(path, None, "the file is empty", "it must hold one JSON object {...}")
    if text.startswith("\ufeff"):
        raise ConfigError(path, None, "the file starts with a byte order mark (BOM)", "save it as UTF-8 without BOM")
    try:
        data = json.loads(text, object_pairs_hook=lambda pairs: _unique_keys(path, pairs),
                          parse_constant=lambda name: _not_json(path, name))
    except json.JSONDecodeError as e:
        cut = " (the file ends there: is it cut short?)" if e.pos >= len(text.rstrip()) else ""
        raise ConfigError(path, None, f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg}{cut}",
                          "fix the syntax there") from None
    except RecursionError:
        raise _too_deep(path) from None
    except ValueError:  # a number of more than 4,300 digits (Python's limit on int())
        raise ConfigError(path, None, "invalid JSON: a number has more than 4300 digits",
                          "check that it is the right file") from None
    if _deeper_than(data, MAX_JSON_DEPTH):
        raise _too_deep(path)
    if not isinstance(data, dict) and not (array_ok and isinstance(data, list)):
        raise ConfigError(path, None, f"the top level is a JSON {json_type(data)}, not an object",
                          "the file must hold one JSON object {...}")
    return data


def _too_deep(path):
    return ConfigError(path, None, f"the JSON nests deeper than {MAX_JSON_DEPTH} levels",
                       "check that it is the right file: the cluster's input files nest a few levels")


def _deeper_than(data, limit):
    """Whether arrays and objects nest deeper than limit; a loop, not recursion, for any depth."""
    todo = [(data, 1)]
    while todo:
        value, depth = todo.pop()
        if isinstance(value, (dict, list)):
            if depth > limit:
                return True
            todo.extend((item, depth + 1) for item in (value.values() if isinstance(value, dict) else value))
    return False


def _not_json(path, name):
    """Python's json reads NaN and Infinity, which JSON has not (nor HyperPod's readers)."""
    raise ConfigError(path, None, f"{name} is not a JSON value", "write a number or a string")


def _unique_keys(path, pairs):
    """json.loads keeps the last of two equal keys silently; a person meant one of them."""
    data = {}
    for key, value in pairs:
        if key in data:
            name = key if len(key) <= SHOWN_CHARS and key.isprintable() else shown(key)
            raise ConfigError(path, name, "appears twice in the same JSON object", "keep one of them")
        data[key] = value
    return data


def json_type(value):
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def want(path, fld, value, kind, what):
    """Type check for one field; `what` describes the expected value."""
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        problem = "missing" if value is None else f"is a JSON {json_type(value)}"
        raise ConfigError(path, fld, problem, f"it must be {what}")
    return value


def optional_string(path, fld, value, what):
    """A string field that may be missing or null (then ''); any other JSON type is an error."""
    return "" if value is None else want(path, fld, value, str, what)


def one_line(text, limit=400):
    """Text on one line, at most limit characters: what a person reads in an error or a log line."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
