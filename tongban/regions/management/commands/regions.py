"""``regions sync`` loads the YRD divisions; ``regions uscc`` completes a 统一社会信用代码."""

from django.core.management.base import BaseCommand, CommandError
from stdnum.cn import uscc

from tongban.core.errors import TongbanError
from tongban.regions.services import regions_sync_yrd

# GB 32100-2015 characters: digits and capital letters without I, O, S, V, Z.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


class Command(BaseCommand):
    help = "行政区划：sync 同步长三角区划；uscc 计算统一社会信用代码校验位。"

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="{sync,uscc}")
        actions.add_parser("sync", help="从区划代码库同步沪苏浙皖的省、市、县级区划（可重复执行）")
        check = actions.add_parser("uscc", help="由前17位计算完整的统一社会信用代码（GB 32100-2015）")
        check.add_argument("first17", help="登记管理部门码、机构类别码、区划码和组织机构代码，共17位")

    def handle(self, *args, **options):
        if options["action"] == "uscc":
            first17 = uscc.compact(options["first17"])
            if (
                len(first17) != 17
                or not first17[:8].isdigit()
                or any(c not in USCC_ALPHABET for c in first17)
            ):
                raise CommandError(
                    "应为17位：前8位为数字，其余为 0-9 和 A-H J-N P Q R T U W X Y。", returncode=2
                )
            self.stdout.write(first17 + uscc.calc_check_digit(first17))
            return
        try:
            count = regions_sync_yrd()
        except TongbanError as exc:
            raise CommandError(f"[{exc.code}] {exc.message}", returncode=2) from exc
        self.stdout.write(f"已同步长三角行政区划 {count} 个。")
