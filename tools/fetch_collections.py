#!/usr/bin/env python3
"""Unpack the Ansible collections in requirements/collections.txt into .collections/.

Ansible Galaxy is out of reach on these machines; the "ansible" package on PyPI carries every
collection, so its wheel is downloaded once and only the listed collections are unpacked.
"""

import pathlib
import shutil
import subprocess
import sys
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
LIST = ROOT / "requirements" / "collections.txt"
TARGET = ROOT / ".collections" / "ansible_collections"
CACHE = ROOT / ".cache" / "collections"


def read_list():
    lines = [line.split("#")[0].strip() for line in LIST.read_text().splitlines()]
    lines = [line for line in lines if line]
    return lines[0], lines[1:]


def main():
    package, collections = read_list()
    stamp = TARGET.parent / (".stamp-" + package.replace("==", "-") + "-" + "-".join(collections))
    if stamp.exists():
        return 0
    CACHE.mkdir(parents=True, exist_ok=True)
    wheels = sorted(CACHE.glob(package.replace("==", "-") + "-*.whl"))
    if not wheels:
        print("==> downloading %s for its collections" % package, flush=True)
        # pip's warnings (a host pip.conf naming missing folders) only matter when it fails.
        done = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(CACHE), package],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if done.returncode != 0:
            sys.exit(done.stdout + "fetch_collections.py: pip could not download %s (above)" % package)
        wheels = sorted(CACHE.glob(package.replace("==", "-") + "-*.whl"))
    if TARGET.exists():
        shutil.rmtree(TARGET)
    prefixes = tuple("ansible_collections/%s/" % name.replace(".", "/") for name in collections)
    with zipfile.ZipFile(wheels[-1]) as wheel:
        members = [m for m in wheel.namelist() if m.startswith(prefixes)]
        wheel.extractall(TARGET.parent, members)
    for old in TARGET.parent.glob(".stamp-*"):
        old.unlink()
    stamp.touch()
    print("==> unpacked %s into %s" % (", ".join(collections), TARGET), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
