"""``python -m scoopjoy.client``: the same as the ``scoopjoy`` console script."""

import sys

from scoopjoy.client.cli import main

sys.exit(main())
