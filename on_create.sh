#!/bin/bash
# HyperPod lifecycle entry point (LifeCycleConfig.OnCreate). HyperPod copies the bundle to each
# node and runs this as root on every node at once. It only prepares Python and hands over:
#   1. log to /var/log/provision/provisioning.log and to stdout (HyperPod sends stdout to CloudWatch);
#   2. exit 0 on a machine without resource_config.json (not a HyperPod node), as AWS's scripts do;
#   3. make a venv with ansible-core pinned for this Python, ansible-runner and boto3 (from
#      wheels/ in the bundle when present, else PyPI with retries);
#   4. run bootstrap.py, which validates the inputs and converges this node; exit with its status.
#      Ansible collections come from collections/ in the bundle (ansible.cfg's collections_path).
# Environment: SAGEMAKER_RESOURCE_CONFIG_PATH (set by HyperPod), HYPERPOD_VENV (default
# /opt/hyperpod-bundle/venv), HYPERPOD_ANSIBLE_CORE_VERSION (override the pinned ansible-core).
# Arguments are passed to bootstrap.py (for example --check, --tags slurm).
set -euo pipefail

bundle_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log_dir=/var/log/provision
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
  3.10) core=2.17.14 ;;   # HyperPod's Ubuntu 22.04 image; 2.17 is the last core for 3.10
  3.11) core=2.19.14 ;;   # the last core for 3.11
  3.1[2-9]) core=2.21.5 ;;
  *) say "ERROR: Python $py_version is not supported (3.10 or newer is)"; exit 1 ;;
esac
core=${HYPERPOD_ANSIBLE_CORE_VERSION:-$core}
runner=2.4.3
boto3=1.43.11   # the accounting role reads the database password from Secrets Manager

venv=${HYPERPOD_VENV:-/opt/hyperpod-bundle/venv}
if ! "$python" -c 'import ensurepip' 2>/dev/null; then
  say "installing python3-venv"
  retry 5 apt-get -o DPkg::Lock::Timeout=600 install -y -qq "python${py_version}-venv" >/dev/null \
    || retry 5 sh -c "apt-get -o DPkg::Lock::Timeout=600 update -qq && apt-get -o DPkg::Lock::Timeout=600 install -y -qq python${py_version}-venv >/dev/null"
fi
want="ansible-core==$core ansible-runner==$runner boto3==$boto3"
if [ "$(cat "$venv/.installed" 2>/dev/null)" != "$want" ]; then
  say "installing $want into $venv"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  if ls "$bundle_dir"/wheels/ansible_core-"$core"-*.whl >/dev/null 2>&1; then
    "$venv/bin/pip" install -q --no-index --find-links "$bundle_dir/wheels" $want
  else
    retry 5 "$venv/bin/pip" install -q --disable-pip-version-check $want
  fi
  echo "$want" >"$venv/.installed"
fi

say "running bootstrap.py with ansible-core $core (Python $py_version)"
status=0
"$venv/bin/python" -u "$bundle_dir/bootstrap.py" run "$@" || status=$?
say "finished with status $status"
exit "$status"
