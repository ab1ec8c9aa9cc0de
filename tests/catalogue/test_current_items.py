"""Items kept per process for applications follow every change to the catalogue at once."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tests import factories
from tongban.catalogue import error_codes
from tongban.catalogue.constants import ItemStatus
from tongban.catalogue.current import catalogue_generation
from tongban.catalogue.models import Material, ServiceItem
from tongban.catalogue.selectors import item_get_for_application
from tongban.core.errors import Conflict

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def item():
    authority = factories.organisation()
    return factories.item(authority, code="11340100MB00000010001")


def _read(code):
    return item_get_for_application(implementation_code=code)


def test_a_second_application_reads_only_the_generation(item):
    first = _read(item.implementation_code)
    with CaptureQueriesContext(connection) as queries:
        second = _read(item.implementation_code)
    assert len(queries) == 1 and "catalogue_generation" in queries[0]["sql"]
    assert second.pk == first.pk and second is not first  # each caller its own copy
    assert [m.code for m in second._materials_cache] == ["sqs", "zc", "zs"]
    assert second.authority.name == item.authority.name


def test_an_item_withdrawn_by_a_bulk_update_is_refused_at_once(item):
    _read(item.implementation_code)
    ServiceItem.objects.filter(pk=item.pk).update(status=ItemStatus.WITHDRAWN)  # no signals, no service
    with pytest.raises(Conflict) as raised:
        _read(item.implementation_code)
    assert raised.value.code == error_codes.ITEM_WITHDRAWN


def test_a_material_added_with_plain_sql_applies_to_the_next_application(item):
    _read(item.implementation_code)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO catalogue_material (item_id, code, name, required, form, copies, note, "
            "certificate_type, sort) VALUES (%s, 'sfz', '身份证明', %s, 'original', 1, '', '', 9)",
            [item.pk, True],
        )
    assert [m.code for m in _read(item.implementation_code)._materials_cache] == ["sqs", "zc", "zs", "sfz"]


def test_a_renamed_authority_is_shown_at_once(item):
    _read(item.implementation_code)
    type(item.authority).objects.filter(pk=item.authority_id).update(name="合肥市数据资源局")
    assert _read(item.implementation_code).authority.name == "合肥市数据资源局"


def test_what_was_read_inside_a_rolled_back_change_is_not_kept(item):
    before = catalogue_generation()
    with pytest.raises(RuntimeError), transaction.atomic():
        Material.objects.filter(item=item, code="zs").delete()
        assert [m.code for m in _read(item.implementation_code)._materials_cache] == ["sqs", "zc"]
        raise RuntimeError("roll back")
    assert catalogue_generation() == before
    assert [m.code for m in _read(item.implementation_code)._materials_cache] == ["sqs", "zc", "zs"]


def test_every_write_gives_a_new_generation(item):
    seen = {catalogue_generation()}
    ServiceItem.objects.filter(pk=item.pk).update(name="内资有限公司设立登记（新）")
    seen.add(catalogue_generation())
    Material.objects.filter(item=item).delete()
    seen.add(catalogue_generation())
    assert len(seen) == 3 and None not in seen
