"""``tongban audit verify``: checks the audit log's hash chain from the first entry to the head.

Exit code 0 when intact, 1 when broken (the first broken entry is named), so monitoring can run it.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.core import audit
from tongban.core.models import AuditEntry

BROKEN = 1


class Command(BaseCommand):
    help = "审计日志：校验哈希链是否完整。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="{verify}")
        sub.add_parser("verify", help="逐条校验审计链，报告第一条损坏的记录")

    def handle(self, *args, **options):
        verdict = audit.verify()
        if verdict.ok:
            self.stdout.write(_("审计链完整：%(n)d 条记录") % {"n": verdict.checked})
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
            % {"where": where, "reason": verdict.reason, "n": verdict.checked},
            returncode=BROKEN,
        )
