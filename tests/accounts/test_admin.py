import pytest

from tests import factories as f

pytestmark = pytest.mark.django_db


def test_admin_user_page_shows_masked_id_never_the_number(client):
    org = f.organisation()
    admin_user = f.staff(org, roles=("admin",))
    citizen = f.citizen()
    client.force_login(admin_user)
    page = client.get(f"/admin/accounts/user/{citizen.pk}/change/").content.decode()
    assert citizen.id_number_masked in page
    assert citizen.id_number not in page


def test_reviewer_cannot_open_the_admin(client):
    client.force_login(f.staff(f.organisation()))
    assert client.get("/admin/").status_code == 302
