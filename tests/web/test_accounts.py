"""Sign-in (with lockout) and registration."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.web.conftest import PASSWORD, id_number, uscc_code
from tongban.accounts.models import User

pytestmark = pytest.mark.django_db


def test_citizen_signs_in_and_out(client, citizen):
    r = client.post(reverse("web:login"), {"username": "zhangsan", "password": PASSWORD})
    assert r.status_code == 302 and r["Location"] == reverse("web:home")
    assert "张三" in client.get(reverse("web:home")).content.decode()
    r = client.post(reverse("web:logout"))
    assert r.status_code == 302
    assert "登录" in client.get(reverse("web:home")).content.decode()


def test_staff_land_on_the_workbench(client, reviewer):
    r = client.post(reverse("web:login"), {"username": "reviewer", "password": PASSWORD})
    assert r["Location"] == reverse("web:workbench")


def test_wrong_password_says_so_in_chinese(client, citizen):
    r = client.post(reverse("web:login"), {"username": "zhangsan", "password": "wrong-password"})
    assert r.status_code == 200
    assert "用户名或密码不正确。" in r.content.decode()


def test_locked_account_gets_a_clear_message(client, citizen):
    User.objects.filter(pk=citizen.pk).update(locked_until=timezone.now() + timedelta(minutes=10))
    r = client.post(reverse("web:login"), {"username": "zhangsan", "password": PASSWORD})
    page = r.content.decode()
    assert "已被临时锁定" in page
    assert "_auth_user_id" not in client.session


def test_citizen_registration_signs_the_new_user_in(client, hefei):
    r = client.post(
        reverse("web:register"),
        {
            "username": "wangwu",
            "password": PASSWORD,
            "password2": PASSWORD,
            "real_name": "王五",
            "id_number": id_number("34010219900307123"),
            "phone": "13700137000",
            "email": "wangwu@example.com",
        },
    )
    assert r.status_code == 302
    user = User.objects.get(username="wangwu")
    assert user.realname_verified_at is not None
    assert client.session["_auth_user_id"] == str(user.pk)


def test_registration_errors_are_shown_at_each_field_and_input_kept(client, hefei):
    r = client.post(
        reverse("web:register"),
        {
            "username": "wangwu",
            "password": PASSWORD,
            "password2": PASSWORD,
            "real_name": "王五",
            "id_number": "340102199003071230",
            "phone": "13700137000",
        },
    )
    page = r.content.decode()
    assert r.status_code == 422
    assert "身份证号码校验位不正确。" in page
    assert 'id="id_id_number_error"' in page
    assert 'value="王五"' in page and 'value="340102199003071230"' in page
    assert PASSWORD not in page  # passwords are never sent back
    assert not User.objects.filter(username="wangwu").exists()


def test_enterprise_registration(client, hefei):
    data = {
        "username": "acme",
        "password": PASSWORD,
        "password2": PASSWORD,
        "enterprise_name": "合肥示例科技有限公司",
        "uscc": uscc_code("91340100MA2N12345"),
        "legal_rep_name": "张三",
        "legal_rep_id_number": id_number("34010219900307123"),
        "agent_name": "李四",
        "agent_id_number": id_number("34010219850612002"),
        "phone": "13600136000",
    }
    wrong = data["uscc"][:-1] + ("0" if data["uscc"][-1] != "0" else "1")
    bad = client.post(reverse("web:register_enterprise"), {**data, "uscc": wrong})
    assert bad.status_code == 422 and 'id="id_uscc_error"' in bad.content.decode()
    assert 'value="合肥示例科技有限公司"' in bad.content.decode()
    r = client.post(reverse("web:register_enterprise"), data)
    assert r.status_code == 302
    assert User.objects.get(username="acme").enterprise.name == "合肥示例科技有限公司"
