"""``catalogue load`` loads the reference data; ``catalogue reindex`` recomputes the search text."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tongban.catalogue import loader, services
from tongban.core.errors import TongbanError


class Command(BaseCommand):
    help = "政务服务事项目录：load 载入参考数据（区划、单位、事项），reindex 重算检索文本。"

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="{load,reindex,publish}")
        load = actions.add_parser("load", help="载入区划、单位和事项参考数据（可重复执行）")
        load.add_argument(
            "--catalogue-dir",
            type=Path,
            default=None,
            help="事项数据目录（含 templates.json 和 items/），默认 tongban/catalogue/data",
        )
        load.add_argument(
            "--organisations",
            type=Path,
            default=None,
            help="单位数据文件，默认 tongban/regions/data/organisations.json",
        )
        load.add_argument("--check", action="store_true", help="只检查数据文件，不写入数据库")
        load.add_argument(
            "--city", action="append", default=None, help="只载入该城市（区划代码）的事项和单位；可重复"
        )
        actions.add_parser("reindex", help="按名称和关键词重算全部事项的检索文本（中文、全拼、首字母）")
        actions.add_parser("publish", help="把本节点城市的事项目录发布给联盟中的其他节点")

    def handle(self, *args, **options):
        try:
            if options["action"] == "load":
                self._load(options)
            elif options["action"] == "publish":
                from tongban.catalogue.federation import catalogue_publish

                recipients = catalogue_publish()
                self.stdout.write(
                    f"已向 {len(recipients)} 个节点发布本市事项目录：{'、'.join(recipients) or '无'}。"
                )
            else:
                seen, changed = services.items_reindex()
                self.stdout.write(f"已重建检索文本：事项 {seen} 项，更新 {changed} 项。")
        except TongbanError as exc:
            raise CommandError(f"[{exc.code}] {exc.message}", returncode=2) from exc

    def _load(self, options):
        kwargs = {"catalogue_dir": options["catalogue_dir"], "organisations_file": options["organisations"]}
        if options["check"]:
            orgs, specs = loader.read_reference_data(**kwargs)
            materials = sum(len(s.materials) for s in specs)
            self.stdout.write(
                f"数据文件检查通过：单位 {len(orgs)} 个，事项 {len(specs)} 项，申请材料 {materials} 项。"
            )
            return
        cities = set(options["city"]) if options["city"] else None
        report = loader.reference_data_load(**kwargs, cities=cities)
        self.stdout.write(report.summary())
        if not any(kwargs.values()):  # the reference data: its 一件事 bundles come with it
            from tongban.bundles.definitions import reference_bundles_load

            saved = reference_bundles_load(cities=cities)
            self.stdout.write(
                f"“一件事”{len(saved)} 个：{'、'.join(f'{d.name}（{d.city_code}）' for d in saved)}。"
            )
