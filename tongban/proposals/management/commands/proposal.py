"""``tongban proposal …``: proposal handling (建议提案办理) from the command line.

    proposal letter ID --format docx|pdf [--output FILE]   the reply letter (答复函) of a proposal
    proposal search TEXT [-k N] [--json]                   similar past proposals and replies
    proposal reindex                                       rebuild the similar-case index
    proposal deadlines [--today YYYY-MM-DD]                windows, provisional deadlines, reminders, overdue
    proposal stats [--year Y] --output FILE.xlsx           the statistics workbook
    proposal demo                                          the demo proposals and accounts

``ID`` is a proposal's id (UUID) or a reply's id: the letter is that of the proposal's latest
signed-off reply, or of that reply. ``--output -`` writes the file to standard output; without
``--output`` it is written to the current directory under its 发文字号.

Exit codes: 0 success, 2 bad input (unknown id, a reply not signed off, unknown format…).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tongban.core.errors import TongbanError

UNUSABLE = 2


def _bad(message: str) -> CommandError:
    return CommandError(message, returncode=UNUSABLE)


def _reply_of(ident: str):
    from django.core.exceptions import ValidationError

    from tongban.proposals.constants import ReplyStatus
    from tongban.proposals.models import Proposal, Reply

    try:
        reply = (
            Reply.objects.select_related("proposal__jurisdiction", "organisation")
            .filter(public_id=ident)
            .first()
        )
        if reply is not None:
            return reply
        proposal = Proposal.objects.filter(public_id=ident).first()
    except (ValidationError, ValueError):
        raise _bad(f"“{ident}”不是有效的建议提案或答复编号（UUID）。") from None
    if proposal is None:
        raise _bad(f"未找到编号为 {ident} 的建议提案或答复。")
    reply = (
        Reply.objects.filter(proposal=proposal)
        .select_related("proposal__jurisdiction", "organisation")
        .order_by("-id")
        .first()
    )
    if reply is None:
        raise _bad(f"{proposal.reference}还没有答复，不能生成答复函。")
    signed = (
        Reply.objects.filter(proposal=proposal, status__in=[ReplyStatus.SIGNED_OFF, ReplyStatus.SENT])
        .select_related("proposal__jurisdiction", "organisation")
        .order_by("-id")
        .first()
    )
    return signed or reply


class Command(BaseCommand):
    help = "建议提案办理：答复函、类案检索、索引重建、期限提醒、统计导出、演示数据。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        letter = sub.add_parser("letter", help="生成答复函（.docx 或 .pdf）")
        letter.add_argument("id", help="建议提案或答复的编号（UUID）")
        letter.add_argument("--format", choices=["docx", "pdf"], required=True, dest="fmt")
        letter.add_argument("--output", "-o", help="输出文件；“-”为标准输出")
        search = sub.add_parser("search", help="类案检索")
        search.add_argument("text")
        search.add_argument("-k", type=int, default=5)
        search.add_argument("--json", action="store_true")
        sub.add_parser("reindex", help="重建类案检索索引")
        deadlines = sub.add_parser("deadlines", help="签收期限、暂定期限确认、到期提醒与超期标记")
        deadlines.add_argument("--today", help="按该日期计算（YYYY-MM-DD），默认今天")
        stats = sub.add_parser("stats", help="导出统计表（.xlsx）")
        stats.add_argument("--year", type=int)
        stats.add_argument("--output", "-o", required=True)
        sub.add_parser("demo", help="准备演示数据与账户")

    def handle(self, *args, **options):
        try:
            getattr(self, f"_{options['action']}")(options)
        except TongbanError as exc:
            raise _bad(f"{exc.message}（{exc.code}）") from None

    def _letter(self, options):
        from tongban.proposals.services import reply_letter

        reply = _reply_of(options["id"])
        data = reply_letter(reply=reply, fmt=options["fmt"])
        output = options.get("output")
        if output == "-":
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
            return
        path = Path(output or re.sub(r"[\\/:*?\"<>|\s]", "_", reply.document_number) + "." + options["fmt"])
        try:
            path.write_bytes(data)
        except OSError as exc:
            raise _bad(f"无法写入 {path}：{exc.strerror or exc}") from None
        self.stdout.write(f"{reply.document_number}：已写入 {path}（{len(data)} 字节）")

    def _search(self, options):
        from tongban.proposals import similar
        from tongban.proposals.selectors import similar_rows

        rows = similar_rows(similar.search(options["text"], k=max(1, min(options["k"], 50))))
        if options["json"]:
            out = [
                {
                    "id": str(r["proposal"].public_id),
                    "reference": r["proposal"].reference,
                    "title": r["proposal"].title,
                    "score": r["score"],
                    "reply_class": r["reply"].reply_class if r["reply"] else "",
                    "document_number": r["reply"].document_number if r["reply"] else "",
                }
                for r in rows
            ]
            self.stdout.write(json.dumps(out, ensure_ascii=False, indent=2))
            return
        if not rows:
            self.stdout.write("没有找到相似的建议提案。")
        for r in rows:
            reply = r["reply"]
            extra = f"  {reply.document_number} {reply.reply_class}类" if reply else ""
            self.stdout.write(f"{r['score']:8.3f}  {r['proposal'].reference}  {r['proposal'].title}{extra}")

    def _reindex(self, options):
        from tongban.proposals import similar

        self.stdout.write(f"已重建索引：{similar.reindex_all()} 件建议提案。")

    def _deadlines(self, options):
        from tongban.core.workdays import parse_date
        from tongban.proposals import services

        today = parse_date(options["today"], field="today") if options.get("today") else None
        deemed = services.assignments_deem_accepted(today=today)
        confirmed = services.deadlines_refresh()
        report = services.reminders_send(today=today)
        self.stdout.write(
            f"逾期视为签收 {deemed} 件，期限确定 {confirmed} 件，到期提醒 {report['reminded']} 件，"
            f"新标记超期 {report['overdue']} 件。"
        )

    def _stats(self, options):
        from tongban.proposals import statistics

        rep = statistics.report(None, year=options.get("year"))
        path = Path(options["output"])
        try:
            path.write_bytes(statistics.export_xlsx(rep))
        except OSError as exc:
            raise _bad(f"无法写入 {path}：{exc.strerror or exc}") from None
        self.stdout.write(f"已导出 {rep.overall.total} 件建议提案的统计：{path}")

    def _demo(self, options):
        from tongban.proposals.demo import proposals_demo_prepare

        for account in proposals_demo_prepare():
            self.stdout.write(f"{account.username:22} {account.password:18} {account.role}（{account.note}）")
