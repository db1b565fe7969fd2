"""Values written into the accounting role's SQL and slurmdbd.conf, encoded so that no value can
end the string or line it sits in: a password from Secrets Manager may hold any character."""

from ansible.errors import AnsibleFilterError


def mysql_string(value):
    """The body of a single-quoted MariaDB/MySQL string literal (default SQL mode): backslash,
    quote and NUL escaped."""
    text = str(value)
    return text.replace("\\", "\\\\").replace("'", "\\'").replace("\0", "\\0")


def slurm_conf_value(value, key="the value"):
    """A value for a KEY=VALUE line that Slurm's parser (parse_config.c) reads back as the same
    string: '\\' and '#' escaped (an unescaped '#' starts a comment), double quotes around a value
    with blanks. Line breaks, NUL, and a '"' Slurm could not read back are refused, naming KEY."""
    text = str(value)
    blank = any(c.isspace() for c in text)
    if any(c in text for c in "\n\r\0") or ('"' in text and (blank or text.startswith('"'))):
        raise AnsibleFilterError(
            "%s: holds a line break, a NUL, or a double quote that Slurm's configuration files cannot "
            "carry; choose a value without them" % key)
    escaped = text.replace("\\", "\\\\").replace("#", "\\#")
    return '"%s"' % escaped if blank else escaped


class FilterModule:
    """Encoders for the accounting role's files."""

    def filters(self):
        return {"mysql_string": mysql_string, "slurm_conf_value": slurm_conf_value}
