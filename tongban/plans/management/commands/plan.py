"""``tongban plan …``: action plans (推进方案) from the command line.

    plan import FILE [--dry-run] [--json] [--code C] [--title T] [--frequency monthly|quarterly]
    plan assign-template PLAN OUT.xlsx
    plan assign-import PLAN FILE.xlsx

``import`` reads a text, .docx, .pdf (with a text layer) or .html file. With ``--dry-run`` it only
prints the structure found (with ``--json``: parts, tasks, tasks_per_part, columns, targets, problems…);
without it the plan is saved, or, if a plan with the code ``--code`` exists, re-imported (tasks are
updated by number and keep their reports). ``assign-template`` writes the Excel template listing every
task; ``assign-import`` assigns lead and co-responsible units from a filled-in template (any error:
nothing changes).

Exit codes: 0 success, 2 bad input (unsupported or encrypted file, PDF without text, no structure,
errors in the document or the Excel file, unknown plan).
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from tongban.core.errors import TongbanError

UNUSABLE = 2
MAX_INPUT = 20 * 1024 * 1024


def _bad(message: str) -> CommandError:
    return CommandError(message, returncode=UNUSABLE)


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(MAX_INPUT + 1)
    except OSError as exc:
        raise _bad(f"无法读取文件 {path}：{exc.strerror or exc}") from None


def _plan(code: str):
    from tongban.plans.models import Plan

    plan = Plan.objects.filter(code=code).first()
    if plan is None:
        raise _bad(f"没有编码为 {code} 的方案。")
    return plan


def _print_summary(command: BaseCommand, summary: dict) -> None:
    w = command.stdout.write
    w(f"方案：{summary['title']}（{summary['issuer'] or '印发机关未识别'}）")
    w(
        f"部分 {summary['parts']} 个，条目 {summary['sections']} 条，任务 {summary['tasks']} 项，专栏 {summary['columns']} 个"
    )
    w("各部分任务数：" + "、".join(str(n) for n in summary["tasks_per_part"]))
    if summary["targets"]:
        w("量化目标：")
        for t in summary["targets"]:
            w(f"  {t['year'] or ''} {t['indicator']} {t['comparator']} {t['value']}{t['unit']}")
    for t in summary["qualitative_targets"]:
        w(f"  {t['year'] or ''} {t['indicator']}：{t['requirement']}（定性）")
    if summary["problems"]:
        w("需要核对的问题：")
        for p in summary["problems"]:
            w(f"  [{p['severity']}] {p['message']}")


def import_(command: BaseCommand, options) -> None:
    from tongban.plans.importing import plan_import_preview, plan_import_save
    from tongban.plans.models import Plan

    content = _read(options["file"])
    if len(content) > MAX_INPUT:
        raise _bad(f"{options['file']} 超过 20 MB，不是推进方案文件。")
    filename = options["file"].rsplit("/", 1)[-1]
    if options["dry_run"]:
        summary = plan_import_preview(content=content, filename=filename).summary()
        if options["json"]:
            command.stdout.write(json.dumps(summary, ensure_ascii=False, indent=1))
        else:
            _print_summary(command, summary)
        return
    existing = Plan.objects.filter(code=options["code"]).first() if options["code"] else None
    result = plan_import_save(
        actor=None,
        content=content,
        filename=filename,
        code=options["code"],
        title=options["title"],
        frequency=options["frequency"],
        plan=existing,
    )
    if options["json"]:
        command.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
    elif result.unchanged:
        command.stdout.write(f"方案 {result.plan.code} 的内容没有变化（第 {result.version} 版）。")
    else:
        command.stdout.write(
            f"已保存方案 {result.plan.code}（第 {result.version} 版）：新增任务 {len(result.created)} 项，"
            f"修改 {len(result.updated)} 项，移出 {len(result.removed)} 项，恢复 {len(result.restored)} 项。"
        )


def assign_template(command: BaseCommand, options) -> None:
    from tongban.plans.assignment import assignment_template

    data = assignment_template(plan=_plan(options["plan"]))
    try:
        with open(options["out"], "wb") as fh:
            fh.write(data)
    except OSError as exc:
        raise _bad(f"无法写入 {options['out']}：{exc.strerror or exc}") from None
    command.stdout.write(f"已生成分工模板：{options['out']}")


def assign_import(command: BaseCommand, options) -> None:
    from tongban.plans.assignment import assignment_import_excel

    result = assignment_import_excel(actor=None, plan=_plan(options["plan"]), content=_read(options["file"]))
    command.stdout.write(f"已导入分工：{result.tasks} 项任务，变更 {result.changes} 处。")


class Command(BaseCommand):
    help = "推进方案：导入方案文件（预览或保存），生成与导入责任分工 Excel。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(
            dest="subcommand", required=True, metavar="{import,assign-template,assign-import}"
        )
        i = sub.add_parser("import", help="导入方案文件（.txt、.docx、带文字层的 .pdf、.html）")
        i.add_argument("file", metavar="FILE")
        i.add_argument("--dry-run", action="store_true", help="只识别并输出结构，不保存")
        i.add_argument("--json", action="store_true", help="以 JSON 输出")
        i.add_argument("--code", help="方案编码（小写字母、数字、连字符）；已存在则重新导入该方案")
        i.add_argument("--title", help="方案名称（默认从文件识别）")
        i.add_argument("--frequency", choices=["monthly", "quarterly"], default="quarterly", help="报送周期")
        t = sub.add_parser("assign-template", help="生成责任分工 Excel 模板（列出全部任务）")
        t.add_argument("plan", metavar="PLAN", help="方案编码")
        t.add_argument("out", metavar="OUT.xlsx")
        a = sub.add_parser("assign-import", help="从填好的 Excel 导入责任分工（有任何错误则不做变更）")
        a.add_argument("plan", metavar="PLAN", help="方案编码")
        a.add_argument("file", metavar="FILE.xlsx")

    def handle(self, *args, **options):
        run = {"import": import_, "assign-template": assign_template, "assign-import": assign_import}
        try:
            run[options["subcommand"]](self, options)
        except TongbanError as exc:
            lines = [f"{exc.message}（{exc.code}）"]
            for error in exc.errors:
                lines.append(f"  {error.field}：{error.message}")
            raise _bad("\n".join(lines)) from None
