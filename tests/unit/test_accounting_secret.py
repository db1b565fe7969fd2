"""The accounting role's Secrets Manager lookup: values, and errors a person can act on.

Secrets Manager is moto's in-process mock here; the standalone scenario uses a moto server.
"""

import json
import pathlib

import boto3
import pytest

import source_files
from ansible.errors import AnsibleError

plugin = source_files.load("plugins/lookup/accounting_secret.py")


@pytest.fixture
def secrets(fake_aws):
    client = boto3.client("secretsmanager", region_name="eu-west-1")

    def make(value):
        return client.create_secret(Name="db-%d" % len(value), SecretString=value)["ARN"]
    return make


def lookup(arn, **kwargs):
    return plugin.LookupModule().run([arn], **kwargs)


def test_reads_the_password_field_in_the_arns_region(secrets):
    arn = secrets(json.dumps({"username": "admin", "password": "s3cret"}))
    assert lookup(arn) == ["s3cret"]


def test_check_returns_ok_not_the_value(secrets):
    arn = secrets(json.dumps({"password": "s3cret"}))
    assert lookup(arn, check=True) == ["ok"]


def test_plain_string_secret_is_the_password(secrets):
    assert lookup(secrets("just-the-password")) == ["just-the-password"]


def test_a_password_with_a_line_break_is_refused_unshown(secrets):
    arn = secrets(json.dumps({"password": "s3cret\nStorageHost=elsewhere"}))
    with pytest.raises(AnsibleError) as error:
        lookup(arn)
    assert "s3cret" not in str(error.value) and "line break" in str(error.value)


def test_missing_field_names_the_setting_and_the_fields(secrets):
    arn = secrets(json.dumps({"username": "admin", "pass": "x"}))
    with pytest.raises(AnsibleError) as error:
        lookup(arn)
    assert str(error.value) == (
        "accounting_rds_secret_field: the secret %s has no field 'password' (fields: pass, username); "
        "set accounting_rds_secret_field to the one holding the password" % arn)


def test_unknown_secret_names_the_setting(secrets):
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:nope-abcdef"
    with pytest.raises(AnsibleError) as error:
        lookup(arn)
    message = str(error.value)
    assert message.startswith("accounting_rds_secret_arn: Secrets Manager refused %s: ResourceNotFoundException" % arn)
    assert "check the ARN" in message


def test_argument_spec_refuses_an_unknown_backend(tmp_path):
    """Ansible validates role input against meta/argument_specs.yml before any task runs."""
    import subprocess
    import sys
    playbook = tmp_path / "validate.yml"
    playbook.write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.validate_argument_spec:\n"
        "        argument_spec: \"{{ (lookup('file', '%s') | from_yaml).argument_specs.main.options }}\"\n"
        "        provided_arguments: {accounting_backend: postgres}\n"
        % (source_files.REPO / "roles" / "accounting" / "meta" / "argument_specs.yml"))
    result = subprocess.run([str(pathlib.Path(sys.executable).parent / "ansible-playbook"), str(playbook)],
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert "accounting_backend must be one of: mariadb, rds, none, got: postgres" in result.stdout
