"""The packages role's check before apt (plugins/filter/packages.py): a package counts as installed
only when dpkg says so, everything else is left to apt as before."""

from ansible_collections.hyperpod.slurm.plugins.filter.packages import apt_missing

DPKG = ("munge\tii \n"
        "lustre-client-modules-6.8.0-aws\thi \n"   # held (fsx holds the Lustre client): installed
        "slurmd\trc \n"                           # removed, its configuration files left
        "sshfs\tiU \n"                            # unpacked, not configured
        "logrotate\tiF \n"                        # half-configured
        "libpam-slurm-adopt\tiiR\n")             # reinstall required


def test_only_cleanly_installed_packages_are_skipped():
    names = ["munge", "lustre-client-modules-6.8.0-aws", "slurmd", "sshfs", "logrotate",
             "libpam-slurm-adopt", "unknown-to-dpkg"]
    assert apt_missing(names, DPKG) == ["slurmd", "sshfs", "logrotate", "libpam-slurm-adopt", "unknown-to-dpkg"]


def test_names_apt_reads_otherwise_are_left_to_apt():
    # dpkg-query prints the bare package name: a version, an architecture or a pattern never matches it.
    assert apt_missing(["munge=0.5.15-2", "munge:amd64", "munge*"], DPKG) == ["munge=0.5.15-2", "munge:amd64", "munge*"]


def test_everything_installed_and_nothing_asked():
    assert apt_missing(["munge"], DPKG) == []
    assert apt_missing([], "") == []
    assert apt_missing(["munge"], None) == ["munge"]


PLAY = """\
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Install what is installed already
      ansible.builtin.include_role:
        name: packages
        tasks_from: apt
      vars:
        __packages_apt_names: [bash, coreutils]
"""


def test_installed_packages_run_no_apt(local_playbook, tmp_path):
    # This host's bash and coreutils: one dpkg-query, the apt task skipped (this venv has no
    # python-apt: an apt run would fail).
    play = tmp_path / "play.yml"
    play.write_text(PLAY)
    done = local_playbook(play, "-v", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Find which packages are not installed among bash, coreutils" in done.stdout
    assert "skipping: [localhost]" in done.stdout.split("Install bash, coreutils", 1)[1]
    assert "changed=0" in done.stdout and "failed=0" in done.stdout
