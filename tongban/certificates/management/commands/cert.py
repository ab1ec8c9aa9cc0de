"""``tongban cert …``: electronic certificates from the command line.

    cert verify FILE [--json] [--trust-list PATH [--anchor-key B64U …]] [--status-list PATH …]
    cert status-list [--fresh]
    cert types-load

``verify`` checks a credential file, a PDF printed by a node, or a file with the text of a QR code
(``-`` reads standard input). It works offline: ``--trust-list`` is a trust list document as the
anchor publishes it (checked with ``--anchor-key``, or this node's configured anchor keys) and
``--status-list`` a status list token as a node hands it out (``cert status-list``), checked against
that trust list. Each option replaces its part of what this node holds (the installed trust list, the
synced status lists); with both, nothing of the node is read.

Exit codes: 0 valid, 1 invalid (revoked, expired, forged…), 2 unusable input (missing file, not a
credential or PDF, PDF without a credential, or no trust list to check against).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError

from tongban.certificates.verification import Verdict

INVALID = 1
UNUSABLE = 2
MAX_INPUT = 25 * 1024 * 1024


def _bad(message: str) -> CommandError:
    return CommandError(message, returncode=UNUSABLE)


def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read(MAX_INPUT + 1)
    try:
        with open(path, "rb") as fh:
            return fh.read(MAX_INPUT + 1)
    except OSError as exc:
        raise _bad(f"无法读取文件 {path}：{exc.strerror or exc}") from None


def _trust(options):
    """The trust list to check against: the file given (verified with the anchor keys) or this node's."""
    from tongban.exchange.canonical import CanonicalError, loads_strict
    from tongban.exchange.envelope import TrustListError
    from tongban.exchange.signing import b64u_decode
    from tongban.exchange.trust import anchor_keys, current_trust_list, trust_list_verify

    path = options["trust_list"]
    try:
        if path is None:
            return current_trust_list()
        keys = []
        for text in options["anchor_key"] or []:
            try:
                keys.append(b64u_decode(text))
            except ValueError:
                raise _bad(f"--anchor-key “{text[:16]}…”不是无填充的 base64url。") from None
        try:
            document = loads_strict(_read(path))
        except CanonicalError as exc:
            raise _bad(f"信任列表文件 {path} 不是合法的 JSON：{exc}") from None
        return trust_list_verify(document, anchor_keys=keys or anchor_keys())
    except TrustListError as exc:
        where = f"信任列表文件 {path}" if path else "本节点的信任列表"
        raise _bad(f"{where}不可用（{exc.code}）：{exc.message}") from None


def _statuses(options, trust):
    from tongban.certificates.selectors import node_verifier
    from tongban.certificates.status_list import StatusListError
    from tongban.certificates.verification import HeldStatusList, StatusLists, status_list_accept
    from tongban.exchange.envelope import EnvelopeError

    paths = options["status_list"] or []
    if not paths:
        return node_verifier().statuses
    newest = {}
    for path in paths:
        try:
            parsed = status_list_accept(_read(path).decode("utf-8", "replace").strip(), trust=trust)
        except (StatusListError, EnvelopeError) as exc:
            raise _bad(f"状态列表文件 {path} 未通过核验：{exc}") from None
        held = newest.get(parsed.issuer)
        if held is None or parsed.issued_at > held.issued_at:
            newest[parsed.issuer] = parsed
    return StatusLists({issuer: HeldStatusList(p.data, p.expires_at) for issuer, p in newest.items()})


def _describe(verdict: Verdict) -> list[str]:
    if verdict.valid:
        lines = [verdict.reason]
    elif verdict.unusable_input:
        lines = [f"无法核验（{verdict.code}）：{verdict.reason}"]
    else:
        lines = [f"无效（{verdict.code}）：{verdict.reason}"]
    if verdict.identifier:
        lines.append(f"证照标识：{verdict.identifier}")
    claims = verdict.claims
    if claims:
        issuer = claims.get("issuer") if isinstance(claims.get("issuer"), dict) else {}
        lines.append(
            f"证照名称：{claims.get('type_name', '')}　颁证单位：{issuer.get('name', '')}（节点 {verdict.issuer}）"
        )
        if claims.get("holder_name"):
            lines.append(f"持证主体：{claims['holder_name']}")
    return lines


def verify(command: BaseCommand, options) -> int:
    from tongban.certificates.inputs import input_verify

    data = _read(options["file"])
    if len(data) > MAX_INPUT:
        raise _bad(f"{options['file']} 超过 {MAX_INPUT // (1024 * 1024)} MB，不是电子证照或其打印件。")
    trust = _trust(options)
    verdict = input_verify(data, trust=trust, statuses=_statuses(options, trust), now=datetime.now(UTC))
    if options["json"]:
        out = {
            "valid": verdict.valid,
            "reason": verdict.reason,
            "identifier": verdict.identifier,
            "code": verdict.code,
        }
        command.stdout.write(json.dumps(out, ensure_ascii=False))
    else:
        for line in _describe(verdict):
            command.stdout.write(line)
    if trust.usable_until() < datetime.now(UTC) and not options["json"]:
        command.stderr.write(
            f"注意：所用信任列表（第 {trust.version} 版）已过期，结果可能不反映联盟的最新变化。"
        )
    return 0 if verdict.valid else UNUSABLE if verdict.unusable_input else INVALID


def status_list(command: BaseCommand, options) -> int:
    from django.conf import settings
    from django.db import transaction

    from tongban.certificates.models import StatusListRecord
    from tongban.certificates.services import status_list_publish

    record = StatusListRecord.objects.filter(issuer_node=settings.NODE_CODE).first()
    if record is None or options["fresh"] or record.expires_at <= datetime.now(UTC):
        with transaction.atomic():
            record = status_list_publish()
    command.stdout.write(record.token)
    return 0


def types_load(command: BaseCommand, options) -> int:
    from tongban.certificates.reference import certificate_types_load

    command.stdout.write(f"已载入 {certificate_types_load()} 个电子证照类型。")
    return 0


class Command(BaseCommand):
    help = "电子证照：核验凭证或打印件（可离线），输出本节点的状态列表，载入证照类型。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(
            dest="subcommand", required=True, metavar="{verify,status-list,types-load}"
        )
        v = sub.add_parser(
            "verify", help="核验电子证照凭证、二维码内容或电子证照 PDF（0 有效，1 无效，2 无法核验）"
        )
        v.add_argument("file", metavar="FILE", help="凭证文件、PDF 或二维码内容的文本文件；- 表示标准输入")
        v.add_argument("--json", action="store_true", help='输出 {"valid", "reason", "identifier", "code"}')
        v.add_argument("--trust-list", metavar="PATH", help="信任锚发布的信任列表文件（离线核验）")
        v.add_argument(
            "--anchor-key",
            metavar="B64U",
            action="append",
            help="信任锚公钥（可重复；默认本节点配置的）；以“-”开头的写成 --anchor-key=…",
        )
        v.add_argument(
            "--status-list",
            metavar="PATH",
            action="append",
            help="节点发布的状态列表文件（可重复，离线核验）",
        )
        s = sub.add_parser("status-list", help="输出本节点当前的状态列表（供离线核验）")
        s.add_argument("--fresh", action="store_true", help="现在重新签发一份")
        sub.add_parser("types-load", help="载入参考证照类型")

    def handle(self, *args, **options):
        run = {"verify": verify, "status-list": status_list, "types-load": types_load}[options["subcommand"]]
        code = run(self, options)
        if code:
            # The verdict is printed already; only the exit code is left to give (not a CommandError,
            # which would print again).
            sys.exit(code)
