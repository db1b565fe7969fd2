"""The test hyperpod.slurm.apt_lock_held, as the roles' apt tasks use it: a lock that outlasted
lock_timeout ends the retries at once (the wait already happened), a download failure is retried."""

# The failures as the apt module reports them: apt-get's own (install; the second after it waited
# DPkg::Lock::Timeout, as seen in the faults scenario) and python-apt's (cache).
PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Fail as apt does
      ansible.builtin.command:
        argv: [sh, -c, 'echo "{{ item.err }}" >&2; exit 100']
      register: result
      until: result is succeeded or result is hyperpod.slurm.apt_lock_held
      retries: 3
      delay: 0
      ignore_errors: true
      loop:
        - what: dpkg's lock
          err: "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (flock)"
          retried: false
        - what: dpkg's lock, after apt-get's own wait
          err: "E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), is another process using it?"
          retried: false
        - what: python-apt's lock
          err: "Failed to lock apt for exclusive operation: Failed to lock directory /var/lib/apt/lists/"
          retried: false
        - what: a download
          err: "E: Failed to fetch http://deb.debian.org/debian/pool/main/p/x.deb  Could not connect"
          retried: true

    - name: Check how often each was tried
      ansible.builtin.assert:
        that: (item.attempts > 1) == item.item.retried
        fail_msg: "{{ item.item.what }}: {{ item.attempts }} attempts"
      loop: "{{ result.results }}"
      loop_control:
        label: "{{ item.item.what }}"
"""


def test_a_held_lock_is_not_retried_and_a_download_failure_is(tmp_path, local_playbook):
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    result = local_playbook("play.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "ok=2" in result.stdout and "ignored=1" in result.stdout
