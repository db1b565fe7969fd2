"""Reading the cluster's input files, and the error a person reads about them.

Plain Python: bootstrap.py, workstation/ and the tests import it without Ansible's plugin loader
(see lifecycle/collection.py), the inventory plugin and the filters through it.
"""

import ipaddress
import json


class ConfigError(Exception):
    """An input problem, shown to a person as one line: FILE: FIELD: PROBLEM; FIX."""

    def __init__(self, path, field, problem, fix):
        self.path, self.field, self.problem, self.fix = str(path), field, problem, fix
        where = f"{self.path}: {field}" if field else self.path
        super().__init__(f"{where}: {problem}; {fix}")


class ConfigWarning(ConfigError):
    """Worth a look, but the cluster would work (`validate` lists these; nodes do not stop)."""


def read_json(path, array_ok=False):
    """A JSON file holding one object (or, with array_ok, an array), else ConfigError."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise ConfigError(path, None, f"cannot read the file ({e.strerror})",
                          "check the path and permissions") from None
    except UnicodeDecodeError:
        raise ConfigError(path, None, "the file is not UTF-8 text", "save it as UTF-8 JSON") from None
    # Three mistakes that JSON's own message explains badly: an empty file, an editor's byte order
    # mark (which other readers of the file, HyperPod's among them, may refuse), a file cut short.
    if not text.strip():
        raise ConfigError(path, None, "the file is empty", "it must hold one JSON object {...}")
    if text.startswith("\ufeff"):
        raise ConfigError(path, None, "the file starts with a byte order mark (BOM)", "save it as UTF-8 without BOM")
    try:
        data = json.loads(text, object_pairs_hook=lambda pairs: _unique_keys(path, pairs))
    except json.JSONDecodeError as e:
        cut = " (the file ends there: is it cut short?)" if e.pos >= len(text.rstrip()) else ""
        raise ConfigError(path, None, f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg}{cut}",
                          "fix the syntax there") from None
    if not isinstance(data, dict) and not (array_ok and isinstance(data, list)):
        raise ConfigError(path, None, f"the top level is a JSON {json_type(data)}, not an object",
                          "the file must hold one JSON object {...}")
    return data


def _unique_keys(path, pairs):
    """json.loads keeps the last of two equal keys silently; a person meant one of them."""
    data = {}
    for key, value in pairs:
        if key in data:
            raise ConfigError(path, key, "appears twice in the same JSON object", "keep one of them")
        data[key] = value
    return data


def json_type(value):
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def want(path, fld, value, kind, what):
    """Type check for one field; `what` describes the expected value."""
    if not isinstance(value, kind):
        problem = "missing" if value is None else f"is a JSON {json_type(value)}"
        raise ConfigError(path, fld, problem, f"it must be {what}")
    return value


def ipv4(path, fld, value):
    """A node's IPv4 address."""
    fix = "HyperPod writes dotted IPv4 addresses like 10.1.2.3; fix or regenerate the file"
    try:
        if not isinstance(value, str):  # IPv4Address takes integers too
            raise TypeError
        ip = ipaddress.IPv4Address(value)
    except (ipaddress.AddressValueError, ValueError, TypeError):
        problem = "missing" if value is None else f"{value!r} is not an IPv4 address"
        raise ConfigError(path, fld, problem, fix) from None
    # Every node has 127.0.0.1: a loopback address would make every node believe it is this one.
    if ip.is_loopback or ip.is_unspecified or ip.is_multicast or ip.is_reserved:
        raise ConfigError(path, fld, f"{value!r} is not a node's address (loopback, unspecified, multicast or "
                          "reserved)", fix)
    return str(ip)


def hyperpod_name(path, fld, value, pattern, what):
    """A name HyperPod gave (cluster, instance group, instance), checked against its pattern."""
    want(path, fld, value, str, f"the {what} (a string)")
    if not pattern.match(value):
        raise ConfigError(path, fld, f"{value!r} is not a valid {what}",
                          "use letters, digits and '-' only, starting and ending with a letter or digit "
                          "(as HyperPod names them)")
    return value


def one_line(text, limit=400):
    """Text on one line, at most limit characters: what a person reads in an error or a log line."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
