"""Lookup: one field of an AWS Secrets Manager secret (the accounting database's password)."""

import json

from ansible.errors import AnsibleError
from ansible.plugins.lookup import LookupBase

DOCUMENTATION = r"""
name: accounting_secret
short_description: A field of an AWS Secrets Manager secret, with errors a person can act on
description:
  - Returns the field I(field) of the JSON secret named by the ARN, or the whole secret when it is
    a plain string. With I(check=true) returns C(ok) instead of the value, so that a task without
    no_log can show why fetching failed while the value itself only ever reaches no_log tasks.
  - The region defaults to the one in the ARN. boto3's usual settings apply (credentials chain,
    C(AWS_ENDPOINT_URL_SECRETS_MANAGER)).
options:
  _terms:
    description: The secret's ARN.
    required: true
  field:
    description: The JSON field holding the value.
    default: password
  region:
    description: The AWS region.
  check:
    description: Return C(ok) instead of the value.
    type: bool
    default: false
"""


def _region_of(arn):
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 and parts[3] else None


class LookupModule(LookupBase):
    def run(self, terms, variables=None, field="password", region=None, check=False, **kwargs):
        try:
            import boto3
            from botocore.config import Config
            from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
        except ImportError as error:
            raise AnsibleError("accounting_rds_secret_arn: boto3 is needed to read the secret (%s); install boto3 "
                               "where Ansible runs (on_create.sh puts it in the bundle's venv)" % error)
        arn = terms[0]
        client = boto3.client("secretsmanager", region_name=region or _region_of(arn),
                              config=Config(retries={"max_attempts": 6, "mode": "standard"}))
        try:
            secret = client.get_secret_value(SecretId=arn)["SecretString"]
        except NoCredentialsError:
            raise AnsibleError("accounting_rds_secret_arn: no AWS credentials to read %s; give the node's "
                               "execution role secretsmanager:GetSecretValue on it" % arn)
        except ClientError as error:
            info = error.response.get("Error", {})
            raise AnsibleError("accounting_rds_secret_arn: Secrets Manager refused %s: %s %s; check the ARN and "
                               "that the execution role may read it" % (arn, info.get("Code"), info.get("Message")))
        except BotoCoreError as error:
            raise AnsibleError("accounting_rds_secret_arn: could not reach Secrets Manager for %s: %s" % (arn, error))
        try:
            data = json.loads(secret)
        except ValueError:
            data = secret
        if isinstance(data, dict):
            if field not in data:
                raise AnsibleError("accounting_rds_secret_field: the secret %s has no field '%s' (fields: %s); set "
                                   "accounting_rds_secret_field to the one holding the password"
                                   % (arn, field, ", ".join(sorted(data)) or "none"))
            data = data[field]
        if not isinstance(data, str) or not data:
            raise AnsibleError("accounting_rds_secret_field: the secret %s holds no text password in '%s'"
                               % (arn, field))
        # The password goes into slurmdbd.conf as StoragePass=...: a line break would add lines there.
        if not data.isprintable():
            raise AnsibleError("accounting_rds_secret_field: the password in %s ('%s') holds a line break or another "
                               "control character, which slurmdbd.conf cannot carry; set one without" % (arn, field))
        return ["ok" if check else data]
