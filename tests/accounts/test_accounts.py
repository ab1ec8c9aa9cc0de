import logging

import pytest
from django.contrib.auth import authenticate
from django.test import RequestFactory

from tests import factories as f
from tongban.accounts import services as svc
from tongban.accounts.models import User
from tongban.core import pii
from tongban.core.errors import InvalidInput
from tongban.core.logging import MaskPIIFilter, mask_text

pytestmark = pytest.mark.django_db


def test_citizen_registration_encrypts_id_and_phone_and_keeps_lookup_hash():
    number = f.id_number("340102", "19900101", 7)
    user = f.citizen("zhang", id_number=number, phone="13912345678")
    row = User.objects.values("id_number_enc", "phone_enc", "id_number_hash").get(pk=user.pk)
    assert number not in row["id_number_enc"] and "13912345678" not in row["phone_enc"]
    assert row["id_number_hash"] == pii.lookup_hash(number, purpose="id_number")
    assert User.objects.get(pk=user.pk).id_number == number
    assert user.id_number_masked == number[:4] + "*" * 10 + number[-4:]
    assert user.phone_masked == "139****5678"
    assert user.realname_verified_at is not None


def test_ciphertext_cannot_be_moved_to_another_field():
    token = pii.encrypt("13912345678", purpose="phone")
    from cryptography.exceptions import InvalidTag

    with pytest.raises(InvalidTag):
        pii.decrypt(token, purpose="id_number")


@pytest.mark.parametrize(
    ("number", "fragment"),
    [
        ("34010219900101123", "18位"),  # too short
        ("340102199001011230", "校验位"),  # wrong check digit (unless it happens to be right)
        ("340102199013011235", "出生日期"),  # month 13
    ],
)
def test_invalid_id_number_is_refused_with_reason(number, fragment):
    from stdnum.cn import ric

    if fragment == "校验位" and ric.is_valid(number):
        number = number[:-1] + ("1" if number[-1] != "1" else "2")
    if fragment == "出生日期":
        body = number[:17]
        number = body + ric.calc_check_digit(body + "0")
    with pytest.raises(InvalidInput) as exc:
        f.citizen(id_number=number)
    assert exc.value.code == "INVALID_ID_NUMBER"
    assert fragment in exc.value.message
    assert User.objects.count() == 0


def test_same_id_number_cannot_register_twice():
    number = f.id_number()
    f.citizen(id_number=number)
    with pytest.raises(InvalidInput) as exc:
        f.citizen(id_number=number)
    assert exc.value.code == "ID_NUMBER_REGISTERED"


def test_enterprise_with_invalid_uscc_is_refused():
    good = f.uscc_code("91340100")
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(InvalidInput) as exc:
        svc.enterprise_register(
            username="ent",
            password="Tongban-2026!",
            enterprise_name="测试公司",
            uscc=bad,
            legal_rep_name="王一",
            legal_rep_id_number=f.id_number(),
            agent_name="王二",
            agent_id_number=f.id_number(),
            phone="13800000000",
        )
    assert exc.value.code == "INVALID_USCC"
    assert exc.value.errors[0].field == "uscc"
    assert User.objects.count() == 0


def test_enterprise_registration_keeps_legal_representative_encrypted():
    user = svc.enterprise_register(
        username="ent",
        password="Tongban-2026!",
        enterprise_name="合肥测试有限公司",
        uscc=f.uscc_code("91340100"),
        legal_rep_name="王一",
        legal_rep_id_number=f.id_number(),
        agent_name="王二",
        agent_id_number=f.id_number(),
        phone="13800000000",
    )
    assert user.enterprise.legal_rep_id_masked.count("*") == 10


def test_login_locks_after_repeated_failures(settings):
    settings.LOGIN_MAX_FAILURES = 3
    user = f.citizen("locky")
    request = RequestFactory().post("/login")
    for _ in range(3):
        assert authenticate(request, username="locky", password="wrong") is None
    user.refresh_from_db()
    assert user.locked_until is not None
    # even the right password is refused while locked
    request = RequestFactory().post("/login")
    assert authenticate(request, username="locky", password="Tongban-2026!") is None
    assert request.tongban_locked is True


def test_successful_login_resets_failure_count():
    user = f.citizen("ok")
    authenticate(None, username="ok", password="wrong")
    assert authenticate(None, username="ok", password="Tongban-2026!") == user
    user.refresh_from_db()
    assert user.failed_logins == 0


def test_log_lines_mask_id_and_phone_numbers():
    number = f.id_number()
    text = mask_text(f"申请人 {number} 电话 13912345678 提交")
    assert number not in text and "13912345678" not in text
    assert "139****5678" in text
    record = logging.LogRecord("tongban", logging.INFO, __file__, 1, "id=%s", (number,), None)
    MaskPIIFilter().filter(record)
    assert number not in record.getMessage()


def test_api_token_is_stored_only_as_hash():
    user = f.citizen()
    token = svc.api_token_issue(user=user, name="test")
    assert token.startswith("tb_")
    assert not user.api_tokens.filter(key_hash=token).exists()
    assert user.api_tokens.count() == 1
