"""python -m workstation validate|bundle|upload ..."""

import sys

from workstation import cli

sys.exit(cli.main())
