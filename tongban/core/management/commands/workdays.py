"""``tongban workdays …``: working-day arithmetic and holiday schedules for operators.

Every sub-command calls the same functions the services use, so the CLI gives the same answer as the
portal. Bad input exits with code 2 and a Chinese message on stderr.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.core import workdays
from tongban.core.context import Origin, acting_from, current_origin
from tongban.core.errors import TongbanError
from tongban.core.models import HolidayYear

BAD_INPUT = 2


def _date(value: str, field: str):
    try:
        return workdays.parse_date(value, field=field)
    except TongbanError as exc:
        raise CommandError(exc.message, returncode=BAD_INPUT) from None


class Command(BaseCommand):
    help = "按国务院节假日安排（含调休）计算工作日，载入新年度的节假日安排。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="{add,between,is,load,known}")
        p = sub.add_parser("add", help="起始日期之后第 N 个工作日")
        p.add_argument("date", help="起始日期 YYYY-MM-DD（当天不计）")
        p.add_argument("n", help="工作日数（非负整数）")
        p.add_argument("--json", action="store_true", help='输出 {"date": …, "provisional": …}')
        p = sub.add_parser("between", help="两个日期之间的工作日数，区间为 (A, B]")
        p.add_argument("start")
        p.add_argument("end")
        p = sub.add_parser("is", help="某日是工作日还是休息日")
        p.add_argument("date")
        p = sub.add_parser("load", help="载入一个年度的节假日安排（JSON 文件）")
        p.add_argument("file")
        p.add_argument("--check", action="store_true", help="只检查文件，不载入")
        sub.add_parser("known", help="列出已知节假日安排的年份")

    def handle(self, *args, **options):
        origin = current_origin()
        if origin.channel == "system":  # not set by a wrapper: this is an operator at a shell
            origin = Origin(channel="cli", address=socket.gethostname())
        with acting_from(origin):
            try:
                getattr(self, f"do_{options['subcommand']}")(options)
            except TongbanError as exc:
                raise CommandError(exc.message, returncode=BAD_INPUT) from None

    def _warn_unknown(self, years) -> None:
        unknown = sorted(y for y in set(years) if not workdays.is_known_year(y))
        if unknown:
            listed = "、".join(str(y) for y in unknown)
            self.stderr.write(
                _("警告：%(years)s 年节假日安排尚未载入，按周一至周五计算，计算结果为暂定。")
                % {"years": listed}
            )

    def do_add(self, options) -> None:
        start = _date(options["date"], "date")
        raw = options["n"].strip()
        if not raw.isascii() or not raw.isdigit():
            raise CommandError(
                _("工作日数“%(value)s”无效，应为非负整数。") % {"value": options["n"]}, returncode=BAD_INPUT
            )
        result = workdays.add_workdays(start, int(raw))
        if options["json"]:
            body = {"date": result.date.isoformat(), "provisional": result.provisional}
            self.stdout.write(json.dumps(body, ensure_ascii=False))
        else:
            self.stdout.write(result.date.isoformat())
        if result.provisional:
            self._warn_unknown(range(start.year, result.date.year + 1))

    def do_between(self, options) -> None:
        start, end = _date(options["start"], "start"), _date(options["end"], "end")
        self.stdout.write(str(workdays.workdays_between(start, end)))
        if end > start:
            self._warn_unknown(range(start.year, end.year + 1))

    def do_is(self, options) -> None:
        d = _date(options["date"], "date")
        self.stdout.write(_("工作日") if workdays.is_workday(d) else _("休息日"))
        self._warn_unknown([d.year])

    def do_load(self, options) -> None:
        path = Path(options["file"])
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            if isinstance(exc, FileNotFoundError):
                why = _("文件不存在")
            elif isinstance(exc, PermissionError):
                why = _("没有读取权限")
            elif isinstance(exc, IsADirectoryError):
                why = _("这是一个目录")
            elif isinstance(exc, UnicodeDecodeError):
                why = _("不是 UTF-8 编码的文本")
            else:
                why = str(exc)
            raise CommandError(
                _("无法读取文件“%(path)s”：%(why)s。") % {"path": path, "why": why}, returncode=BAD_INPUT
            ) from None
        parsed = workdays.schedule_parse(text)
        if "EXAMPLE" in parsed.source.upper() or "示例" in parsed.source:
            self.stderr.write(_("警告：该文件的来源标注为示例数据，不是正式发布的节假日安排。"))
        if options["check"]:
            n = workdays.schedule_check(year=parsed.year, days=parsed.days, source=parsed.source)
            self.stdout.write(_("文件有效：%(year)d 年，共 %(n)d 天。") % {"year": parsed.year, "n": n})
            return
        n = workdays.schedule_load(year=parsed.year, days=parsed.days, source=parsed.source)
        self.stdout.write(
            _("已载入 %(year)d 年节假日安排：共 %(n)d 天（来源：%(source)s）。")
            % {"year": parsed.year, "n": n, "source": parsed.source}
        )

    def do_known(self, options) -> None:
        import chinese_calendar

        self.stdout.write(
            _("%(first)d–%(last)d 年：内置（chinesecalendar %(version)s）")
            % {
                "first": workdays.PACKAGE_FIRST_YEAR,
                "last": workdays.PACKAGE_LAST_YEAR,
                "version": chinese_calendar.__version__,
            }
        )
        for row in HolidayYear.objects.order_by("year"):
            self.stdout.write(
                _("%(year)d 年：已载入，来源 %(source)s，载入于 %(at)s")
                % {
                    "year": row.year,
                    "source": row.source,
                    "at": timezone.localtime(row.loaded_at).strftime("%Y-%m-%d %H:%M"),
                }
            )
        self.stdout.write(
            _("%(date)s 及以前的工作日计算均为确定结果。") % {"date": workdays.last_known_date().isoformat()}
        )
