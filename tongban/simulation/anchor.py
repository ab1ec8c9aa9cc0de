"""The simulation's trust anchor, in one process::

    python -m tongban.simulation.anchor --dir ANCHOR_DIR --members MEMBERS.json --out TRUST_LIST.json \
        [--name NAME] [--valid-hours 168]

Creates the anchor if needed, then for each member of ``MEMBERS.json`` (``[{"code", "name",
"endpoint", "kid", "public_key"}]``) runs ``federation member-add`` (new member) or ``member-rotate``
(a key the registry does not know), and signs and writes a new trust-list version (``federation
publish``). Forty-one ``tongban federation …`` commands would start Django 41 times; this starts it
once. A member whose endpoint changed (the simulation moved to other ports) gets the new endpoint in
the registry before publishing. Prints ``{"version", "members", "public_key"}``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tongban.simulation.anchor")
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--members", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--name", default="长三角政务服务一网通办联盟（模拟）")
    parser.add_argument("--valid-hours", type=int, default=168)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from tongban.exchange.management.commands import federation as fed

    anchor = args.dir.resolve()

    def run(*command: str) -> str:
        out = io.StringIO()
        call_command("federation", *command, stdout=out, stderr=io.StringIO())
        return out.getvalue()

    if not (anchor / fed.REGISTRY).exists():
        run("anchor-init", "--dir", str(anchor), "--name", args.name)
    members = json.loads(args.members.read_text(encoding="utf-8"))
    registry = fed._read_registry(anchor)
    known = {m["code"]: m for m in registry["members"]}
    for member in members:
        entry = known.get(member["code"])
        key = [f"--public-key={member['public_key']}", f"--kid={member['kid']}"]
        if entry is None:
            run(
                "member-add",
                "--dir",
                str(anchor),
                "--code",
                member["code"],
                "--name",
                member["name"],
                "--endpoint",
                member["endpoint"],
                *key,
            )
        elif member["kid"] not in {k["kid"] for k in entry["keys"]}:
            run("member-rotate", "--dir", str(anchor), "--code", member["code"], *key)
    # The simulation may run its nodes on other ports than last time: keep the endpoints current.
    wanted = {m["code"]: m["endpoint"].rstrip("/") for m in members}
    with fed._registry_lock(anchor):
        registry = fed._read_registry(anchor)
        changed = False
        for entry in registry["members"]:
            if entry["code"] in wanted and entry["endpoint"] != wanted[entry["code"]]:
                entry["endpoint"] = wanted[entry["code"]]
                changed = True
        if changed:
            fed._write_registry(anchor, registry)
    run("publish", "--dir", str(anchor), "--out", str(args.out), "--valid-hours", str(args.valid_hours))
    registry = fed._read_registry(anchor)
    public_key = (anchor / fed.PUBLIC_KEY_FILE).read_text().strip()
    print(
        json.dumps(
            {"version": registry["version"], "members": len(registry["members"]), "public_key": public_key}
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
