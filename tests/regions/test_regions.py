"""Divisions and the organisation reference data."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from stdnum.cn import uscc

from tongban.catalogue import loader
from tongban.regions import divisions
from tongban.regions.constants import OrganisationKind
from tongban.regions.models import Organisation, Region

ORGANISATIONS = json.loads(loader.ORGANISATIONS_FILE.read_text(encoding="utf-8"))["organisations"]
CITIES = {"310000", "320100", "330100", "340100", "341000", "340600"}


@pytest.mark.parametrize("org", ORGANISATIONS, ids=[o["name"] for o in ORGANISATIONS])
def test_every_organisation_uscc_validates_and_encodes_its_region(org):
    assert uscc.validate(org["uscc"]) == org["uscc"]
    assert org["uscc"][:2] in ("11", "12")  # 机关 / 事业单位
    assert org["uscc"][2:8] == org["region"]


def test_organisation_codes_and_names_are_unique():
    assert (
        len({o["uscc"] for o in ORGANISATIONS})
        == len({o["name"] for o in ORGANISATIONS})
        == len(ORGANISATIONS)
    )


def test_each_city_has_one_cross_region_service_window():
    windows = [o for o in ORGANISATIONS if o["kind"] == OrganisationKind.WINDOW]
    assert sorted(divisions.city_of(w["region"]) for w in windows) == sorted(CITIES)
    assert all("长三角“一网通办”综合服务专窗" in w["name"] and w["address"] and w["phone"] for w in windows)


@pytest.mark.django_db
def test_loading_puts_organisations_in_their_regions(reference_data):
    baohe = Organisation.objects.select_related("region").get(name="合肥市公安局包河分局")
    assert (baohe.region.code, baohe.region.name, baohe.region.parent_id) == ("340111", "包河区", "340100")
    assert Organisation.objects.count() == len(ORGANISATIONS)


@pytest.fixture
def reference_data(db):
    return loader.reference_data_load()


@pytest.mark.django_db
def test_regions_sync_prints_the_count_and_is_idempotent():
    out = StringIO()
    call_command("regions", "sync", stdout=out)
    count = Region.objects.count()
    assert f"已同步长三角行政区划 {count} 个" in out.getvalue()
    call_command("regions", "sync", stdout=StringIO())
    assert Region.objects.count() == count
    assert Region.objects.get(code="341000").name == "黄山市"
    assert Region.objects.get(code="310117").parent_id == "310000"


def test_regions_uscc_completes_the_check_character():
    out = StringIO()
    call_command("regions", "uscc", "11340100MB0000000", stdout=out)
    code = out.getvalue().strip()
    assert code.startswith("11340100MB0000000") and uscc.is_valid(code)


@pytest.mark.parametrize("bad", ["1134010", "11340100MB000000I", "1134O100MB0000000"])
def test_regions_uscc_refuses_a_malformed_prefix_with_code_2(bad):
    with pytest.raises(CommandError) as exc:
        call_command("regions", "uscc", bad)
    assert exc.value.returncode == 2
