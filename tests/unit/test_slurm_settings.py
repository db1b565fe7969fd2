"""slurm.conf settings from several layers (filters slurm_settings_combine, slurm_conf_setting):
the flag a role needs (PrologFlags=Contain for pam_slurm_adopt) survives the platform's and the
user's own flags."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from plugins.filter.slurm_settings import slurm_conf_setting, slurm_settings_combine  # noqa: E402


def test_later_layers_win_for_plain_keys():
    assert slurm_settings_combine([{"Prolog": "/a", "X": "1"}, {"Prolog": "/b"}, {}, None]) == {"Prolog": "/b", "X": "1"}


def test_flag_keys_are_joined_in_first_seen_order_without_case():
    layers = [{"PrologFlags": "X11"}, {"PrologFlags": "Contain"}, {"PrologFlags": "contain, Serial"}]
    assert slurm_settings_combine(layers) == {"PrologFlags": "X11,Contain,Serial"}


def test_an_empty_platform_value_adds_nothing():
    assert slurm_settings_combine([{"PrologFlags": ""}, {"PrologFlags": "Contain"}]) == {"PrologFlags": "Contain"}


def test_the_last_line_of_a_key_is_read_without_case_or_comment():
    text = "PrologFlags=Alloc\n# PrologFlags=Nope\nprologflags = X11,Contain # site\nProlog=/x\n"
    assert slurm_conf_setting(text, "PrologFlags") == "X11,Contain"
    assert slurm_conf_setting(text, "Epilog") == ""
    assert slurm_conf_setting("PrologFlagsExtra=1\n", "PrologFlags") == ""
