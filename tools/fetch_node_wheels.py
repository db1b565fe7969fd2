#!/usr/bin/env python3
"""Download the wheels on_create.sh installs on a node, for the nodes' Python versions.

They land in .cache/wheels/, which the test harness copies into each simulated node's bundle as
wheels/, so nodes install ansible-core and ansible-runner without reaching PyPI (containers here
cannot reach it over HTTPS, and HyperPod nodes in closed VPCs cannot either).
"""

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
TARGET = ROOT / ".cache" / "wheels"
# HyperPod's Ubuntu 22.04 image has 3.10, Debian 12 (most test containers) 3.11, Debian 13 (the
# slurm24 scenario) and Ubuntu 24.04 3.12+.
PYTHONS = ("3.10", "3.11", "3.13")
# The cores on_create.sh picks per Python; 3.11 also runs 2.17 in the tests (HyperPod's ceiling).
CORES = {"3.10": ["2.17.14"], "3.11": ["2.19.14", "2.17.14"], "3.13": ["2.21.5"]}
RUNNER = "ansible-runner==2.4.3"
# For the accounting role's Secrets Manager lookup (rds backend).
BOTO3 = "boto3==1.43.11"
# glibc 2.35 on Ubuntu 22.04, 2.36 on Debian 12.
PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_28_x86_64",
             "manylinux_2_34_x86_64")


def main():
    stamp = TARGET / (".stamp-" + "-".join("%s:%s" % (p, ",".join(CORES[p])) for p in PYTHONS) + "-" + BOTO3)
    if stamp.exists():
        return 0
    TARGET.mkdir(parents=True, exist_ok=True)
    for python in PYTHONS:
        for core in CORES[python]:
            print("==> downloading wheels for Python %s: ansible-core %s, %s, %s" % (python, core, RUNNER, BOTO3),
                  flush=True)
            cmd = [sys.executable, "-m", "pip", "download", "-q", "-d", str(TARGET), "--only-binary=:all:",
                   "--python-version", python, "--implementation", "cp"]
            for platform in PLATFORMS:
                cmd += ["--platform", platform]
            subprocess.run(cmd + ["ansible-core==" + core, RUNNER, BOTO3], check=True)
    for old in TARGET.glob(".stamp-*"):
        old.unlink()
    stamp.touch()
    return 0


if __name__ == "__main__":
    sys.exit(main())
