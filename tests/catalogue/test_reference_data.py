"""The reference catalogue: what it holds, and how loading it behaves with good and bad files."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from jsonschema import Draft202012Validator
from stdnum.cn import uscc

from tongban.catalogue import error_codes, loader
from tongban.catalogue.constants import ItemStatus, MaterialForm, ServiceMode
from tongban.catalogue.models import Material, ServiceItem
from tongban.core.errors import InvalidInput
from tongban.regions import divisions
from tongban.regions.models import Organisation, Region

pytestmark = pytest.mark.django_db

CITIES = {"310000", "320100", "330100", "340100", "341000", "340600"}


def read(path):
    return json.loads(path.read_text(encoding="utf-8"))


def write(path, doc):
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")


def snapshot():
    items = sorted(
        ServiceItem.objects.values_list("implementation_code", "version", "updated_at", "search_text")
    )
    materials = sorted(Material.objects.values_list("item__implementation_code", "code", "name", "sort"))
    orgs = sorted(Organisation.objects.values_list("uscc", "name", "updated_at"))
    return items, materials, orgs


# --- what the reference data holds ---------------------------------------------------------------


def test_loading_twice_is_idempotent(reference_data):
    before = snapshot()
    again = loader.reference_data_load()
    assert snapshot() == before
    assert (again.items_created, again.items_updated, again.items_unchanged) == (0, 0, reference_data.items)
    assert (again.organisations_created, again.organisations_updated) == (0, 0)
    assert ServiceItem.objects.count() == reference_data.items
    assert Material.objects.count() == reference_data.materials


def test_each_of_the_six_cities_has_at_least_twelve_published_items(reference_data):
    assert set(reference_data.cities) == CITIES
    for city in CITIES:
        assert ServiceItem.objects.filter(city_code=city, status=ItemStatus.PUBLISHED).count() >= 12, city


def test_every_reference_form_schema_is_a_valid_json_schema_of_four_to_twelve_fields(reference_data):
    for item in ServiceItem.objects.all():
        schema = item.form_schema
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["type"] == "object"
        assert 4 <= len(schema["properties"]) <= 12, item.name
        assert all(field.get("title") for field in schema["properties"].values()), item.name
        assert set(schema["required"]) <= set(schema["properties"]), item.name


def test_company_establishment_form_accepts_a_realistic_application_and_rejects_a_bad_phone(reference_data):
    item = ServiceItem.objects.filter(name="内资有限公司设立登记", city_code="340100").get()
    application = {
        "enterprise_name": "合肥长三角数字科技有限公司",
        "enterprise_type": "有限责任公司（自然人投资或控股）",
        "registered_capital": 100,
        "shareholder_count": 2,
        "address": "安徽省合肥市包河区徽州大道1号",
        "business_scope": "软件开发；信息技术咨询服务",
        "legal_representative": "张三",
        "contact_phone": "13912345678",
    }
    validator = Draft202012Validator(item.form_schema)
    assert list(validator.iter_errors(application)) == []
    assert [e.validator for e in validator.iter_errors({**application, "contact_phone": "0551-12345"})] == [
        "pattern"
    ]


def test_items_carry_realistic_limits_codes_and_materials(reference_data):
    for item in ServiceItem.objects.select_related("authority", "region"):
        assert 0 < item.promised_limit_days <= item.legal_limit_days, item.name
        assert item.city_code == divisions.city_of(item.region_id)
        assert divisions.city_of(item.authority.region_id) == item.city_code
        assert item.implementation_code == f"{item.basic_code}{item.region_id}01"
        assert item.modes and set(item.modes) <= set(ServiceMode.values)
        assert item.legal_basis.startswith("《") and item.conditions and item.process and item.location
        assert item.phone and item.published_at is not None
    for material in Material.objects.all():
        assert material.form in MaterialForm.values
        assert material.certificate_type in ("", *loader.CERTIFICATE_TYPES)
    company = ServiceItem.objects.get(implementation_code="00020100100034010001")
    assert (company.name, company.legal_limit_days, company.promised_limit_days) == (
        "内资有限公司设立登记",
        15,
        1,
    )
    assert company.authority.name == "合肥市市场监督管理局"
    assert {"营业执照", "开办企业", "公司注册"} <= set(company.keywords)
    assert set(company.modes) == {"full_online", "proxy_intake"}


def test_district_item_belongs_to_its_district_and_city(reference_data):
    hukou = ServiceItem.objects.select_related("authority").get(
        name="户口迁移（准予迁入）", city_code="340100"
    )
    assert (hukou.region_id, hukou.authority.name) == ("340111", "合肥市公安局包河分局")
    assert hukou.implementation_code == "00010100200034011101"
    assert "multi_site" in hukou.modes
    assert (hukou.legal_limit_days, hukou.promised_limit_days) == (20, 10)


def test_certificate_replaceable_materials_use_the_shared_type_codes(reference_data):
    used = set(Material.objects.exclude(certificate_type="").values_list("certificate_type", flat=True))
    assert used == set(loader.CERTIFICATE_TYPES)
    licence = Material.objects.get(item__implementation_code="00020100500034010001", code="business_licence")
    assert licence.certificate_type == "yyzz"


def test_reload_updates_a_changed_item_in_place_and_keeps_its_status(data_copy):
    catalogue_dir, organisations = data_copy
    loader.reference_data_load(catalogue_dir=catalogue_dir, organisations_file=organisations)
    item = ServiceItem.objects.get(implementation_code="00020100100034010001")
    ServiceItem.objects.filter(pk=item.pk).update(status=ItemStatus.WITHDRAWN)
    city_file = catalogue_dir / "items" / "340100.json"
    doc = read(city_file)
    doc["items"][0].update(
        promised_limit_days=2, omit_materials=["prior_approval"], extra_keywords=["一照通"]
    )
    write(city_file, doc)

    report = loader.reference_data_load(catalogue_dir=catalogue_dir, organisations_file=organisations)

    assert (report.items_created, report.items_updated) == (0, 1)
    changed = ServiceItem.objects.get(implementation_code="00020100100034010001")
    assert changed.pk == item.pk
    assert changed.promised_limit_days == 2
    assert changed.status == ItemStatus.WITHDRAWN  # operators' decisions survive a re-load
    assert "一照通" in changed.keywords and "yizhaotong" in changed.search_text
    assert not changed.materials.filter(code="prior_approval").exists()
    assert ServiceItem.objects.filter(implementation_code=item.implementation_code).count() == 1


# --- bad files write nothing ---------------------------------------------------------------------


def assert_load_fails(data_copy, code):
    catalogue_dir, organisations = data_copy
    with pytest.raises(InvalidInput) as exc:
        loader.reference_data_load(catalogue_dir=catalogue_dir, organisations_file=organisations)
    assert exc.value.code == code
    assert not Region.objects.exists()
    assert not Organisation.objects.exists()
    assert not ServiceItem.objects.exists()
    return exc.value


def test_an_invalid_uscc_raises_its_code_names_the_organisation_and_writes_nothing(data_copy):
    _, organisations = data_copy
    doc = read(organisations)
    good = doc["organisations"][3]["uscc"]
    wrong = next(c for c in "0123456789ABCDEFGHJKLMNPQRTUWXY" if c != good[-1])
    doc["organisations"][3]["uscc"] = good[:-1] + wrong
    assert not uscc.is_valid(doc["organisations"][3]["uscc"])
    write(organisations, doc)

    error = assert_load_fails(data_copy, error_codes.DATA_INVALID_USCC)

    assert "organisations.json" in error.message and doc["organisations"][3]["name"] in error.message


def test_a_bad_form_schema_raises_its_code_names_file_and_item_and_writes_nothing(data_copy):
    catalogue_dir, _ = data_copy
    city_file = catalogue_dir / "items" / "341000.json"
    doc = read(city_file)
    doc["items"][2]["form_schema"] = {
        "type": "object",
        "properties": {"reason": {"type": "string", "title": "原因", "maxLength": -1}},
    }
    write(city_file, doc)

    error = assert_load_fails(data_copy, error_codes.DATA_INVALID_FORM_SCHEMA)

    assert (
        "341000.json" in error.message
        and "第3项" in error.message
        and "营业执照遗失补领、换发" in error.message
    )


def test_a_bad_shared_form_schema_is_refused_even_before_an_item_uses_it(data_copy):
    catalogue_dir, _ = data_copy
    doc = read(catalogue_dir / "templates.json")
    doc["form_schemas"]["unused"] = {"type": "objekt", "properties": {"a": {"type": "string", "title": "甲"}}}
    write(catalogue_dir / "templates.json", doc)
    assert_load_fails(data_copy, error_codes.DATA_INVALID_FORM_SCHEMA)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"modes": ["everywhere"]}, error_codes.DATA_UNKNOWN_MODE),
        ({"item_type": "permit"}, error_codes.DATA_UNKNOWN_ITEM_TYPE),
        ({"subject_types": ["alien"]}, error_codes.DATA_UNKNOWN_SUBJECT_TYPE),
        ({"region": "999999"}, error_codes.DATA_UNKNOWN_REGION),
        ({"region": "320102"}, error_codes.DATA_REGION_OUTSIDE_CITY),
        ({"authority": "合肥市不存在局"}, error_codes.DATA_UNKNOWN_ORGANISATION),
        (
            {"authority": "合肥市政务服务中心长三角“一网通办”综合服务专窗"},
            error_codes.DATA_UNKNOWN_ORGANISATION,
        ),
        ({"template": "no_such_template"}, error_codes.DATA_UNKNOWN_TEMPLATE),
        ({"promised_limit_days": 30}, error_codes.DATA_INVALID_TIME_LIMIT),
        ({"promised_limit_dayz": 3}, error_codes.DATA_FORMAT_INVALID),
        ({"legal_limit_days": "15"}, error_codes.DATA_FORMAT_INVALID),
        (
            {"extra_materials": [{"code": "x", "name": "某材料", "form": "fax"}]},
            error_codes.DATA_UNKNOWN_MATERIAL_FORM,
        ),
        (
            {"extra_materials": [{"use": "id_card", "certificate_type": "abc"}]},
            error_codes.DATA_UNKNOWN_CERTIFICATE_TYPE,
        ),
        ({"extra_materials": ["premises_proof"]}, error_codes.DATA_DUPLICATE_CODE),
    ],
)
def test_a_bad_item_entry_raises_its_code_and_writes_nothing(data_copy, change, code):
    catalogue_dir, _ = data_copy
    city_file = catalogue_dir / "items" / "340100.json"
    doc = read(city_file)
    doc["items"][0].update(change)
    write(city_file, doc)
    error = assert_load_fails(data_copy, code)
    assert "340100.json" in error.message


def test_the_same_item_twice_in_one_region_is_a_duplicate_code_unless_seq_differs(data_copy):
    catalogue_dir, organisations = data_copy
    city_file = catalogue_dir / "items" / "340600.json"
    doc = read(city_file)
    doc["items"].append(dict(doc["items"][0]))
    write(city_file, doc)
    assert_load_fails(data_copy, error_codes.DATA_DUPLICATE_CODE)

    doc["items"][-1]["seq"] = 2
    write(city_file, doc)
    loader.reference_data_load(catalogue_dir=catalogue_dir, organisations_file=organisations)
    assert ServiceItem.objects.filter(implementation_code="00020100100034060002").exists()


def test_a_file_that_is_not_json_is_refused(data_copy):
    catalogue_dir, _ = data_copy
    (catalogue_dir / "items" / "320100.json").write_text("{not json", encoding="utf-8")
    assert_load_fails(data_copy, error_codes.DATA_FILE_UNREADABLE)


def test_a_bad_file_leaves_a_previous_load_untouched(data_copy):
    catalogue_dir, organisations = data_copy
    loader.reference_data_load(catalogue_dir=catalogue_dir, organisations_file=organisations)
    before = snapshot()
    city_file = catalogue_dir / "items" / "330100.json"
    doc = read(city_file)
    doc["items"][0]["promised_limit_days"] = 2  # a valid change in one file…
    write(city_file, doc)
    other = catalogue_dir / "items" / "341000.json"
    doc = read(other)
    doc["items"][-1]["modes"] = ["nowhere"]  # …and a bad one in another
    write(other, doc)
    with pytest.raises(InvalidInput):
        loader.reference_data_load(catalogue_dir=catalogue_dir, organisations_file=organisations)
    assert snapshot() == before


# --- commands ------------------------------------------------------------------------------------


def test_catalogue_load_command_prints_the_counts():
    out = StringIO()
    call_command("catalogue", "load", stdout=out)
    items = ServiceItem.objects.count()
    assert f"事项 {items} 项（新增 {items}" in out.getvalue()
    assert "城市 6 个" in out.getvalue()


def test_catalogue_load_command_with_a_bad_file_exits_with_code_2(data_copy):
    catalogue_dir, organisations = data_copy
    (catalogue_dir / "items" / "320100.json").write_text("[]", encoding="utf-8")
    with pytest.raises(CommandError) as exc:
        call_command(
            "catalogue", "load", "--catalogue-dir", str(catalogue_dir), "--organisations", str(organisations)
        )
    assert exc.value.returncode == 2
    assert error_codes.DATA_FORMAT_INVALID in str(exc.value)
    assert not ServiceItem.objects.exists()


def test_catalogue_load_check_reads_everything_and_writes_nothing():
    out = StringIO()
    call_command("catalogue", "load", "--check", stdout=out)
    assert "数据文件检查通过" in out.getvalue()
    assert not ServiceItem.objects.exists() and not Region.objects.exists()


def test_catalogue_reindex_command_recomputes_search_text(reference_data):
    ServiceItem.objects.update(search_text="")
    out = StringIO()
    call_command("catalogue", "reindex", stdout=out)
    assert f"更新 {reference_data.items} 项" in out.getvalue()
    assert not ServiceItem.objects.filter(search_text="").exists()
