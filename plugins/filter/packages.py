"""What the packages role still has to install, from one dpkg-query of the packages asked for."""


def apt_missing(names, dpkg_query_output):
    """The names (in their order) that dpkg does not report installed.

    dpkg_query_output: `dpkg-query -W -f '${Package}\\t${db:Status-Abbrev}\\n' NAME...` (a line per
    package dpkg knows). Installed is status `i` with no error flag (`ii `, `hi ` for a held package);
    half-installed, config-files only, unknown, or a name apt reads otherwise (`pkg=1.0`, `pkg:arm64`,
    a pattern) counts as missing, so that apt runs for it as it did before this check.
    """
    installed = set()
    for line in (dpkg_query_output or "").splitlines():
        package, _, status = line.partition("\t")
        if len(status) >= 2 and status[1] == "i" and status[2:3] in ("", " "):
            installed.add(package.strip())
    return [name for name in names if name not in installed]


class FilterModule:
    """Package filters."""

    def filters(self):
        return {"apt_missing": apt_missing}
