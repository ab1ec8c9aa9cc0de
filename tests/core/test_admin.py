"""Admin: schedules are uploaded through the same service as the CLI; the audit log is view-only."""

from pathlib import Path

import pytest
from django.contrib.admin.sites import site
from django.core.files.uploadedfile import SimpleUploadedFile

from tongban.core import workdays
from tongban.core.admin import ScheduleUploadForm
from tongban.core.models import AuditEntry, HolidayDay, HolidayYear

pytestmark = pytest.mark.django_db

EXAMPLE_2027 = Path(workdays.__file__).parent / "data" / "holidays-2027.example.json"


def upload(content: bytes) -> ScheduleUploadForm:
    return ScheduleUploadForm(data={}, files={"schedule_file": SimpleUploadedFile("holidays.json", content)})


def test_admin_upload_loads_the_schedule_and_audits_the_admin(rf, admin_user):
    form = upload(EXAMPLE_2027.read_bytes())
    assert form.is_valid(), form.errors
    request = rf.post("/")
    request.user = admin_user
    obj = form.save(commit=False)
    site._registry[HolidayYear].save_model(request, obj, form, change=False)
    assert obj.pk == HolidayYear.objects.get(year=2027).pk
    assert HolidayDay.objects.filter(year=2027).count() == 34
    entry = AuditEntry.objects.get(action="workdays.schedule_load")
    assert (entry.actor_id, entry.channel) == (admin_user.pk, "system")
    assert workdays.is_known_year(2027)


def test_admin_upload_of_a_bad_schedule_shows_the_errors_and_loads_nothing():
    form = upload(
        '{"year": 2027, "source": "x", "workdays": [{"name": "调休", "date": "2027-01-04"}]}'.encode()
    )
    assert not form.is_valid()
    assert "调休上班日 2027-01-04 不是周末" in str(form.errors["schedule_file"])
    assert not HolidayYear.objects.exists()


def test_audit_log_and_schedule_rows_cannot_be_edited_in_the_admin(rf, admin_user):
    request = rf.get("/")
    request.user = admin_user
    audit_admin = site._registry[AuditEntry]
    assert not audit_admin.has_add_permission(request)
    assert not audit_admin.has_change_permission(request)
    assert not audit_admin.has_delete_permission(request)
    assert audit_admin.has_view_permission(request)
    day_admin = site._registry[HolidayDay]
    assert not day_admin.has_change_permission(request)
    year_admin = site._registry[HolidayYear]
    assert year_admin.has_add_permission(request)  # uploading a file is the one way in
    assert not year_admin.has_delete_permission(request)
