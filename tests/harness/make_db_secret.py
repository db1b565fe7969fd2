#!/usr/bin/env python3
"""Plays AWS Secrets Manager's part for the rds accounting tests: stores a new random database
password in the moto server at AWS_ENDPOINT_URL_SECRETS_MANAGER, as a JSON secret like the one
HyperPod's multi-head CloudFormation stack makes.

Usage: make_db_secret.py ARN_FILE PASSWORD_FILE   (both written, mode 0600)
"""

import json
import os
import secrets
import string
import sys

import boto3


def main(arn_file, password_file):
    password = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
    client = boto3.client("secretsmanager", region_name="us-west-2")
    arn = client.create_secret(Name="hpb/slurm-accounting-%s" % secrets.token_hex(4),
                               SecretString=json.dumps({"username": "admin", "password": password}))["ARN"]
    for path, text in ((arn_file, arn), (password_file, password)):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
