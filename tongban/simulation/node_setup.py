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
    _applicants_with_valid_numbers()
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


def _id_number(region: str, birth: str, serial: str) -> str:
    from stdnum.cn import ric

    body = f"{region}{birth}{serial}"
    return body + ric.calc_check_digit(body + "0")


def _applicants_with_valid_numbers() -> None:
    """Registers the demo citizen and enterprise first where ``demo_accounts_ensure`` cannot.

    ``tongban.demo`` makes their ID numbers from the city's first district and birth dates in 1990/1992;
    ``stdnum.cn.ric`` refuses a region code that did not exist at the birth date, which is the case
    for 17 of the 41 YRD cities (无锡's first district, 320205 锡山区, dates from 2000).
    Here the same accounts get a district of the city and a 2001 birth date that are valid together;
    ``demo_accounts_ensure`` then finds them and creates the rest with the same passwords.
    """
    from django.conf import settings
    from stdnum.cn import ric, uscc

    from tongban.accounts import services as accounts
    from tongban.accounts.models import User
    from tongban.demo import _passwords
    from tongban.regions.models import Region

    node = settings.NODE_CODE
    districts = list(
        Region.objects.filter(parent_id=node, level="district")
        .order_by("code")
        .values_list("code", flat=True)
    ) or [node]
    if ric.is_valid(_id_number(districts[0], "19900307", "123")):
        return  # the demo's own numbers are valid here
    home = next((d for d in districts if ric.is_valid(_id_number(d, "20010307", "123"))), None)
    if home is None:
        return  # demo_accounts_ensure will say what is wrong
    pw = _passwords(
        settings.VAR_DIR / "demo-accounts.json", ["citizen", "enterprise", "clerk", "reviewer", "admin"]
    )
    if not User.objects.filter(username="citizen").exists():
        accounts.citizen_register(
            username="citizen",
            password=pw["citizen"],
            real_name="张晓明",
            id_number=_id_number(home, "20010307", "123"),
            phone="13855110000",
            email="citizen@example.invalid",
        )
    if not User.objects.filter(username="enterprise").exists():
        code = "91" + node + "MA2T0A015"
        accounts.enterprise_register(
            username="enterprise",
            password=pw["enterprise"],
            enterprise_name=f"{settings.NODE_NAME}通办示范科技有限公司",
            uscc=code + uscc.calc_check_digit(code),
            legal_rep_name="王建国",
            legal_rep_id_number=_id_number(home, "20010615", "234"),
            agent_name="李娜",
            agent_id_number=_id_number(home, "20010920", "345"),
            phone="13955120000",
        )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
