#!/bin/bash
# HyperPod lifecycle entry point (LifeCycleConfig.OnCreate). HyperPod copies the bundle to each
# node and runs this as root on every node at once. It only prepares Python and hands over:
#   1. log to /var/log/provision/provisioning.log and to stdout (HyperPod sends stdout to CloudWatch);
#   2. exit 0 on a machine without resource_config.json (not a HyperPod node), as AWS's scripts do;
#   3. check the bundle against its MANIFEST.json (the file that differs is named; exit 2);
#   4. make a venv with ansible-core, ansible-runner and boto3 at the versions and hashes of
#      requirements/node-lock/py<Python>-ansible-core-<core>.txt: offline from wheels/ in the bundle,
#      else (no wheels for this Python or architecture) from the package index, retried;
#   5. run bootstrap.py, which validates the inputs and converges this node; exit with its status.
#      Ansible collections come from collections/ in the bundle (ansible.cfg's collections_path).
# Environment: SAGEMAKER_RESOURCE_CONFIG_PATH (set by HyperPod), HYPERPOD_VENV (default
# /opt/hyperpod-bundle/venv), HYPERPOD_ANSIBLE_CORE_VERSION (another ansible-core: needs its lock in
# the bundle), PIP_INDEX_URL (the index of the fallback; pip's own configuration otherwise, then PyPI),
# HYPERPOD_LOG_DIR (this script's log folder, default /var/log/provision: for tests; bootstrap.py
# keeps its own --log-dir).
# Arguments are passed to bootstrap.py (for example --check, --tags slurm).
set -euo pipefail

bundle_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log_dir=${HYPERPOD_LOG_DIR:-/var/log/provision}
mkdir -p "$log_dir"
chmod 0750 "$log_dir"
exec > >(tee -a "$log_dir/provisioning.log") 2>&1
say() { printf '%s on_create: %s\n' "$(date -u +%FT%TZ)" "$*"; }

resource_config=${SAGEMAKER_RESOURCE_CONFIG_PATH:-/opt/ml/config/resource_config.json}
if [ ! -f "$resource_config" ]; then
  if [ -n "${SAGEMAKER_RESOURCE_CONFIG_PATH:-}" ]; then
    say "ERROR: SAGEMAKER_RESOURCE_CONFIG_PATH is $resource_config, but that file does not exist"
    exit 1
  fi
  say "no $resource_config: not a HyperPod node, nothing to do"
  exit 0
fi
export SAGEMAKER_RESOURCE_CONFIG_PATH=$resource_config

# retry N CMD...: run CMD up to N times with growing pauses (network blips, apt locks at boot).
retry() {
  local tries=$1 n=1 pause=5; shift
  until "$@"; do
    if [ "$n" -ge "$tries" ]; then say "ERROR: failed $tries times: $*"; return 1; fi
    say "attempt $n of $tries failed, retrying in ${pause}s: $*"
    sleep "$pause"; n=$((n + 1)); pause=$((pause * 2))
  done
}

python=$(command -v python3 || true)
if [ -z "$python" ]; then say "ERROR: python3 is missing on this node's image"; exit 1; fi
py_version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
case "$py_version" in
  3.[0-9]) say "ERROR: Python $py_version is too old: ansible-core needs 3.10 or newer; use an image with Ubuntu 22.04 or newer (HyperPod's Ubuntu 20.04 image has Python 3.8)"; exit 1 ;;
  3.10) core=2.17.14 ;;   # HyperPod's Ubuntu 22.04 image; 2.17 is the last core for 3.10
  3.11) core=2.19.14 ;;   # the last core for 3.11
  3.1[2-9]) core=2.21.5 ;;
  *) say "ERROR: Python $py_version is not supported (3.10 or newer is)"; exit 1 ;;
esac
core=${HYPERPOD_ANSIBLE_CORE_VERSION:-$core}
# The bundle as built, before any of it is used: the lock file below decides what pip installs.
# manifest.py is plain Python; it names the first file that differs (exit 2).
"$python" -c 'import sys; sys.path.insert(0, sys.argv[1]); from lifecycle import manifest; manifest.exit_if_altered(sys.argv[1])' "$bundle_dir" \
  || { say "ERROR: the bundle differs from its MANIFEST.json (the line above names the file); nothing was changed"; exit 2; }
export HYPERPOD_BUNDLE_CHECKED=$(cd "$bundle_dir" && pwd -P)   # bootstrap.py need not hash it again
# What the venv gets: every package pinned with the sha256 of each of its files, for this Python.
lock=requirements/node-lock/py$py_version-ansible-core-$core.txt
if [ ! -f "$bundle_dir/$lock" ]; then
  say "ERROR: the bundle has no $lock, so it cannot install ansible-core $core on Python $py_version (it has: $(cd "$bundle_dir" && echo requirements/node-lock/*.txt)); set HYPERPOD_ANSIBLE_CORE_VERSION to one of those, or add it to LOCKS in workstation/node_lock.py, run tools/lock_node_requirements.py and tools/fetch_node_wheels.py, and rebuild the bundle"
  exit 1
fi
arch=$(uname -m)

venv=${HYPERPOD_VENV:-/opt/hyperpod-bundle/venv}
if ! "$python" -c 'import ensurepip' 2>/dev/null; then
  say "installing python3-venv"
  retry 5 apt-get -o DPkg::Lock::Timeout=600 install -y -qq "python${py_version}-venv" >/dev/null \
    || retry 5 sh -c "apt-get -o DPkg::Lock::Timeout=600 update -qq && apt-get -o DPkg::Lock::Timeout=600 install -y -qq python${py_version}-venv >/dev/null"
fi
want="$lock $(sha256sum <"$bundle_dir/$lock" | cut -c1-16)"   # a changed lock installs anew
if [ "$(cat "$venv/.installed" 2>/dev/null)" != "$want" ]; then
  say "installing $lock into $venv (Python $py_version, $arch)"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  # Wheels only (nodes have no compiler), each checked against the lock's hashes, from either source.
  pip=("$venv/bin/pip" install -q --disable-pip-version-check --only-binary=:all: --require-hashes
       -r "$bundle_dir/$lock")
  rc=0
  out=$("${pip[@]}" --no-index --find-links "$bundle_dir/wheels" 2>&1) || rc=$?
  if [ "$rc" -ne 0 ] && [[ "$out" == *"DO NOT MATCH THE HASHES"* ]]; then
    # A wheel that is there but altered is a broken bundle: stop rather than fetch a good copy.
    printf '%s\n' "$out"
    say "ERROR: a wheel in the bundle's wheels/ does not match its hash in $lock (pip names it above): the bundle was damaged or altered; build and upload it again"
    exit 1
  elif [ "$rc" -ne 0 ]; then
    why=${out##*$'\n'}   # pip's last line, such as "No matching distribution found for cffi==2.1.1"
    say "the bundle has no wheels for Python $py_version on $arch (${why#ERROR: }): installing the locked versions and hashes from ${PIP_INDEX_URL:-"pip's index (PyPI unless pip.conf names another)"}"
    retry 5 "${pip[@]}"
  fi
  echo "$want" >"$venv/.installed"
fi

say "running bootstrap.py with ansible-core $core (Python $py_version)"
status=0
"$venv/bin/python" -u "$bundle_dir/bootstrap.py" run "$@" || status=$?
say "finished with status $status"
exit "$status"
