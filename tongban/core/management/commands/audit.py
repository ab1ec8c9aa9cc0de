"""``tongban audit verify`` / ``tongban audit seal``: the audit log's hash chain.

``verify`` first seals the entries recorded but not yet chained (``--no-seal`` only reads), then
checks the chain from the first entry to the head. Exit code 0 when intact, 1 when broken (the first
broken entry is named), so monitoring can run it. ``seal`` only seals, e.g. from cron on a node
whose processes all exited before their background sealing ran.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.core import audit
from tongban.core.models import AuditEntry

BROKEN = 1


class Command(BaseCommand):
    help = "审计日志：封链，校验哈希链是否完整。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="{verify,seal}")
        verify = sub.add_parser("verify", help="逐条校验审计链，报告第一条损坏的记录")
        verify.add_argument(
            "--no-seal", action="store_true", help="不先封链：只读，尚未封链的记录报告为待封链"
        )
        sub.add_parser("seal", help="为已提交但尚未封链的记录计算哈希并接入审计链")

    def handle(self, *args, **options):
        if options["subcommand"] == "seal":
            self.stdout.write(_("已封链 %(n)d 条记录") % {"n": audit.seal()})
            return
        if not options["no_seal"]:
            audit.seal()
        verdict = audit.verify()
        pending = ""
        if verdict.pending:
            pending = _("；另有 %(n)d 条记录尚未封链，未校验") % {"n": verdict.pending}
        if verdict.ok:
            self.stdout.write(_("审计链完整：%(n)d 条记录") % {"n": verdict.checked} + pending)
            return
        entry = AuditEntry.objects.filter(seq=verdict.first_broken_seq).first()
        if entry is not None:
            where = _("第 %(seq)d 条记录（%(action)s，%(at)s）") % {
                "seq": entry.seq,
                "action": entry.action,
                "at": timezone.localtime(entry.created_at).isoformat(timespec="seconds"),
            }
        else:
            where = _("第 %(seq)s 条记录（已不存在）") % {"seq": verdict.first_broken_seq}
        raise CommandError(
            _("审计链损坏：%(where)s：%(reason)s 此前 %(n)d 条记录完整。")
            % {"where": where, "reason": verdict.reason, "n": verdict.checked}
            + pending,
            returncode=BROKEN,
        )
