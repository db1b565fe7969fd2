"""slurm.conf settings put together from several layers (role slurm_controller): the roles' own
keys, the platform's line, the user's slurm_controller_settings. A later layer's value wins, except
for keys that hold a list of flags (PrologFlags): there one role's flag (Contain, which
pam_slurm_adopt needs) must not be dropped because the platform or the user set other flags."""

import re

# Keys whose value is a comma-separated set of flags that several layers each add to.
FLAG_KEYS = ("PrologFlags",)


def _flags(value):
    return [flag.strip() for flag in str(value).split(",") if flag.strip()]


def slurm_settings_combine(layers, flag_keys=FLAG_KEYS):
    """One dict from a list of dicts, later ones winning; the flag keys get the union of every
    layer's flags, in first-seen order, compared without case (Slurm reads them so)."""
    combined = {}
    for layer in layers:
        for key, value in (layer or {}).items():
            if key in flag_keys and key in combined:
                seen = {flag.lower() for flag in _flags(combined[key])}
                value = ",".join(_flags(combined[key]) + [f for f in _flags(value) if f.lower() not in seen])
            combined[key] = value
    return combined


def slurm_conf_setting(text, key):
    """The value of KEY's last line in a slurm.conf text (keys are read without case, as Slurm
    does), '' when there is none. Comments and blanks around '=' are ignored."""
    value = ""
    pattern = re.compile(r"^\s*%s\s*=\s*([^#\s]*)" % re.escape(key), re.IGNORECASE | re.MULTILINE)
    for match in pattern.finditer(str(text)):
        value = match.group(1)
    return value


class FilterModule:
    """slurm.conf settings."""

    def filters(self):
        return {"slurm_settings_combine": slurm_settings_combine, "slurm_conf_setting": slurm_conf_setting}
