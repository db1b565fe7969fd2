"""A CreateCluster request checked against the API's own model, as botocore ships it: required
fields, types, unknown fields (typos), ranges, lengths, enums and patterns. The API checks these
on the server; here they come before anything is created, all at once."""

import difflib
import functools
import re

import botocore.session

# What the API's patterns mean, for the shapes people get wrong most.
PATTERN_HINTS = {
    "ClusterName": "letters, digits and hyphens, starting and ending with a letter or digit",
    "ClusterInstanceGroupName": "letters, digits and hyphens, starting and ending with a letter or digit",
    "ClusterPartitionName": "letters, digits and hyphens, starting and ending with a letter or digit",
    "S3Uri": "an s3:// URI, like s3://sagemaker-bucket/prefix/",
    "RoleArn": "an IAM role ARN, like arn:aws:iam::111122223333:role/NAME",
    "ClusterDnsName": "the file system's DNSName, like fs-0123456789abcdef0.fsx.us-west-2.amazonaws.com",
    "ClusterMountName": "the file system's MountName: 1-8 letters, digits, '_' or '-'",
    "ClusterFsxMountPath": "an absolute path, like /fsx",
}
JSON_TYPES = {"structure": (dict, "an object"), "map": (dict, "an object"), "list": (list, "an array"),
              "string": (str, "a string"), "integer": (int, "an integer"), "long": (int, "an integer"),
              "boolean": (bool, "true or false"), "float": ((int, float), "a number"),
              "double": ((int, float), "a number")}


@functools.lru_cache(maxsize=1)
def create_cluster_shape():
    model = botocore.session.get_session().get_service_model("sagemaker")
    return model.operation_model("CreateCluster").input_shape


def _jtype(value):
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", int: "a number",
             float: "a number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _pattern(shape):
    try:
        return re.compile(shape.metadata["pattern"])
    except (KeyError, re.error):  # Java-only syntax such as \p{L}: the server checks those
        return None


def check(value, shape=None, field=""):
    """Yield (field, problem, fix) for everything the model refuses in `value`."""
    shape = shape or create_cluster_shape()
    kind = shape.type_name
    want, what = JSON_TYPES.get(kind, (object, kind))
    if not isinstance(value, want) or (kind in ("integer", "long", "float", "double") and isinstance(value, bool)):
        yield field, f"is {_jtype(value)}", f"it must be {what}"
        return
    meta = shape.metadata
    if kind == "structure":
        yield from _check_structure(value, shape, field)
    elif kind == "list":
        yield from _check_size(field, len(value), meta, "items")
        for i, item in enumerate(value):
            yield from check(item, shape.member, f"{field}[{i}]")
    elif kind == "string":
        yield from _check_string(value, shape, field)
    elif kind in ("integer", "long", "float", "double"):
        low, high = meta.get("min"), meta.get("max")
        if (low is not None and value < low) or (high is not None and value > high):
            yield field, f"{value} is out of range", f"CreateCluster allows {low if low is not None else '...'}-" \
                                                     f"{high if high is not None else '...'}"


def _check_structure(value, shape, field):
    prefix = field + "." if field else ""
    for name in shape.required_members:
        if name not in value:
            yield prefix + name, "missing", f"CreateCluster requires it in {field or 'the request'}"
    for name, item in value.items():
        if name not in shape.members:
            close = difflib.get_close_matches(name, list(shape.members), n=1)
            fix = f"did you mean {close[0]}?" if close else f"remove it (fields here: {', '.join(shape.members)})"
            yield prefix + name, f"CreateCluster has no field {name!r} here", fix
        else:
            yield from check(item, shape.members[name], prefix + name)
    if shape.metadata.get("union") and len(value) > 1:
        yield field, f"sets {', '.join(value)}", "each entry takes exactly one of them; split it into several entries"


def _check_size(field, size, meta, unit):
    low, high = meta.get("min"), meta.get("max")
    counted = f"{size} {unit}" if size != 1 else f"1 {unit[:-1]}"
    if low is not None and size < low:
        yield field, f"has {counted}", f"CreateCluster needs at least {low}"
    elif high is not None and size > high:
        yield field, f"has {counted}", f"CreateCluster allows at most {high}"


def _check_string(value, shape, field):
    enum = shape.enum
    if enum and value not in enum:
        close = difflib.get_close_matches(value, enum, n=1)
        fix = f"did you mean {close[0]}?" if close else f"use one of: {', '.join(enum)}"
        yield field, f"{value!r} is not a value CreateCluster accepts", fix
        return
    pattern = _pattern(shape)
    if pattern and not pattern.fullmatch(value):
        yield field, f"{value!r} is not valid here", \
            f"use {PATTERN_HINTS.get(shape.name, 'a value matching ' + shape.metadata['pattern'])}"
    else:
        yield from _check_size(field, len(value), shape.metadata, "characters")
