"""Prepares one node, run in that node's environment (``TONGBAN_VAR_DIR``, ``TONGBAN_NODE_CODE``, …)::

    python -m tongban.simulation.node_setup [--catalogue-dir DIR --organisations FILE]

In one process (one Django start instead of four ``tongban`` commands): migrate, load the node's own
city from the reference data (or from a generated catalogue directory), ensure the demo accounts
(``demo-accounts.json`` in the node's var dir), and make the node's signing key. Prints one JSON line:
``{"code", "kid", "public_key", "items", "accounts"}``. Idempotent, like ``tongban demo-node-prepare``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tongban.simulation.node_setup")
    parser.add_argument("--catalogue-dir", type=Path, default=None)
    parser.add_argument("--organisations", type=Path, default=None)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from tongban.catalogue.loader import reference_data_load
    from tongban.demo import demo_accounts_ensure
    from tongban.exchange.keys import node_key_init

    call_command("migrate", verbosity=0, interactive=False)
    report = reference_data_load(
        catalogue_dir=args.catalogue_dir, organisations_file=args.organisations, cities={settings.NODE_CODE}
    )
    accounts = demo_accounts_ensure()
    key = node_key_init()
    print(
        json.dumps(
            {
                "code": settings.NODE_CODE,
                "kid": key.kid,
                "public_key": key.public_key_b64u,
                "items": report.items,
                "accounts": [a.username for a in accounts],
            },
            ensure_ascii=False,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
