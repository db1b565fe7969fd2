"""Values that end up inside SQL strings, slurmdbd.conf lines and fstab lines (plugins/filter/
accounting.py, fsx.py) cannot end the string or line they sit in, whatever they hold."""

import re

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.hyperpod.slurm.plugins.filter import accounting, fsx

HOSTILE = ["plain", "with#hash", "back\\slash", "trailing\\", "it's", "sp ace", "#\\#", "tab\there", "é€"]

# Slurm's reading of a KEY=VALUE line (src/common/parse_config.c): comments start at a '#' behind an
# even number of backslashes, then every backslash escapes the next character, then the value is
# either "quoted" or one word.
_VALUE = re.compile(r'^\s*([\w.]+)\s*=\s*(("([^"]*)")|([^\s]+))(\s|$)')


def slurm_reads(line):
    count = 0
    for i, char in enumerate(line):
        if char == "#" and count % 2 == 0:
            line = line[:i]
            break
        count = count + 1 if char == "\\" else 0
    line = re.sub(r"\\(.)", r"\1", line)
    match = _VALUE.match(line)
    return match.group(4) if match.group(4) is not None else match.group(5)


@pytest.mark.parametrize("value", HOSTILE)
def test_slurm_reads_back_the_value_written(value):
    assert slurm_reads("StoragePass=" + accounting.slurm_conf_value(value, "StoragePass")) == value


@pytest.mark.parametrize("value", ["two\nlines", "cr\rhere", "nul\0", 'say "hi"', '"quoted'])
def test_values_slurm_cannot_carry_are_refused_by_key(value):
    with pytest.raises(AnsibleFilterError, match="^StoragePass: holds a line break"):
        accounting.slurm_conf_value(value, "StoragePass")


# MariaDB's reading of a single-quoted literal in the default SQL mode: backslash escapes.
def mysql_reads(literal):
    match = re.fullmatch(r"'((?:[^'\\]|\\.)*)'", literal, re.S)
    assert match, "the literal ends early: %r" % literal
    return re.sub(r"\\(.)", lambda m: {"0": "\0"}.get(m.group(1), m.group(1)), match.group(1), flags=re.S)


@pytest.mark.parametrize("value", HOSTILE + ["x'; DROP DATABASE slurm_acct_db; --", "nul\0", "\\'"])
def test_mysql_reads_back_the_password_written(value):
    assert mysql_reads("'%s'" % accounting.mysql_string(value)) == value


@pytest.mark.parametrize("field,value", [("dns_name", "fs-1.example\nUUID=x / ext4 defaults 0 0"),
                                         ("path", "/fsx data"), ("options", "noatime, flock"),
                                         ("mount_name", "abc\tdef")])
def test_an_fstab_field_with_blanks_is_refused(field, value):
    fs = {"type": "lustre", "dns_name": "fs-1", "mount_name": "abc", "path": "/fsx", field: value}
    with pytest.raises(AnsibleFilterError, match="fsx_filesystems: the file system at .* has %s" % field):
        fsx.fsx_mounts([fs], "noatime", "nfsvers=4.2", "/fsx")
