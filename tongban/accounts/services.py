"""Writes for accounts: registration with real-name data, staff, login lockout, API tokens."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from tongban.accounts import error_codes
from tongban.accounts.constants import Role, UserKind
from tongban.accounts.models import ApiToken, Enterprise, User
from tongban.accounts.realname import get_verifier
from tongban.core import audit, pii
from tongban.core.errors import FieldError, InvalidInput, TongbanError
from tongban.regions.services import validate_uscc

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")


def verified_id_number(*, name: str, id_number: str, field: str = "id_number") -> str:
    """The compact ID number when the real-name provider accepts the pair; an error otherwise."""
    verdict = get_verifier().verify(name=name, id_number=id_number)
    if not verdict.ok:
        raise InvalidInput(
            error_codes.INVALID_ID_NUMBER,
            f"身份证号码无效：{verdict.reason}",
            errors=[FieldError(field, verdict.reason, error_codes.INVALID_ID_NUMBER)],
        )
    return verdict.id_number


def valid_phone(phone: str, *, field: str = "phone") -> str:
    p = phone.strip().replace(" ", "").replace("-", "")
    if not PHONE_RE.match(p):
        raise InvalidInput(
            error_codes.INVALID_PHONE,
            "手机号码应为11位，以1开头。",
            errors=[FieldError(field, "手机号码应为11位，以1开头。", error_codes.INVALID_PHONE)],
        )
    return p


def _check_password(password: str, user: User | None = None) -> None:
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        msgs = [str(m) for m in exc.messages]
        raise InvalidInput(
            error_codes.WEAK_PASSWORD,
            "密码不符合要求：" + "；".join(msgs),
            errors=[FieldError("password", "；".join(msgs), error_codes.WEAK_PASSWORD)],
        ) from None


def _check_username(username: str) -> None:
    if User.objects.filter(username=username).exists():
        raise InvalidInput(
            error_codes.USERNAME_TAKEN,
            "该用户名已被使用。",
            errors=[FieldError("username", "该用户名已被使用。", error_codes.USERNAME_TAKEN)],
        )


def _set_personal_data(user: User, *, id_number: str, phone: str) -> None:
    user.id_number_enc = pii.encrypt(id_number, purpose="id_number")
    user.id_number_hash = pii.lookup_hash(id_number, purpose="id_number")
    user.phone_enc = pii.encrypt(phone, purpose="phone") if phone else ""
    user.phone_hash = pii.lookup_hash(phone, purpose="phone") if phone else ""


def citizen_register(
    *, username: str, password: str, real_name: str, id_number: str, phone: str, email: str = ""
) -> User:
    """Registers a citizen after real-name verification (实名认证)."""
    compact_id = verified_id_number(name=real_name, id_number=id_number)
    phone = valid_phone(phone)
    _check_username(username)
    if User.objects.filter(
        kind=UserKind.CITIZEN, id_number_hash=pii.lookup_hash(compact_id, purpose="id_number")
    ).exists():
        raise InvalidInput(
            error_codes.ID_NUMBER_REGISTERED,
            "该身份证号码已注册，请直接登录。",
            errors=[FieldError("id_number", "该身份证号码已注册。", error_codes.ID_NUMBER_REGISTERED)],
        )
    user = User(username=username, kind=UserKind.CITIZEN, real_name=real_name.strip(), email=email)
    _check_password(password, user)
    user.set_password(password)
    _set_personal_data(user, id_number=compact_id, phone=phone)
    user.realname_verified_at = timezone.now()
    with transaction.atomic():
        try:
            user.save()
        except IntegrityError:
            raise InvalidInput(error_codes.USERNAME_TAKEN, "该用户名或身份证号码已注册。") from None
        audit.record(actor=user, action="account.register", target=user, data={"kind": user.kind})
    return user


def enterprise_register(
    *,
    username: str,
    password: str,
    enterprise_name: str,
    uscc: str,
    legal_rep_name: str,
    legal_rep_id_number: str,
    agent_name: str,
    agent_id_number: str,
    phone: str,
    email: str = "",
) -> User:
    """Registers an enterprise account: the enterprise (USCC) and the agent who acts for it."""
    try:
        code = validate_uscc(uscc)
    except TongbanError as exc:
        raise InvalidInput(
            error_codes.INVALID_USCC,
            exc.message,
            errors=[FieldError("uscc", exc.message, error_codes.INVALID_USCC)],
        ) from None
    rep_id = verified_id_number(
        name=legal_rep_name, id_number=legal_rep_id_number, field="legal_rep_id_number"
    )
    agent_id = verified_id_number(name=agent_name, id_number=agent_id_number, field="agent_id_number")
    phone = valid_phone(phone)
    _check_username(username)
    if Enterprise.objects.filter(uscc=code).exists():
        raise InvalidInput(
            error_codes.USCC_REGISTERED,
            "该统一社会信用代码已注册。",
            errors=[FieldError("uscc", "该统一社会信用代码已注册。", error_codes.USCC_REGISTERED)],
        )
    user = User(username=username, kind=UserKind.ENTERPRISE, real_name=agent_name.strip(), email=email)
    _check_password(password, user)
    user.set_password(password)
    _set_personal_data(user, id_number=agent_id, phone=phone)
    user.realname_verified_at = timezone.now()
    with transaction.atomic():
        user.save()
        Enterprise.objects.create(
            user=user,
            name=enterprise_name.strip(),
            uscc=code,
            legal_rep_name=legal_rep_name.strip(),
            legal_rep_id_enc=pii.encrypt(rep_id, purpose="id_number"),
            legal_rep_id_hash=pii.lookup_hash(rep_id, purpose="id_number"),
        )
        audit.record(
            actor=user, action="account.register", target=user, data={"kind": user.kind, "uscc": code}
        )
    return user


def staff_create(
    *, username: str, password: str, real_name: str, organisation, roles: list[str], email: str = ""
) -> User:
    unknown = [r for r in roles if r not in Role.values]
    if unknown:
        raise InvalidInput("UNKNOWN_ROLE", f"未知角色：{', '.join(unknown)}。")
    _check_username(username)
    user = User(
        username=username,
        kind=UserKind.STAFF,
        real_name=real_name,
        organisation=organisation,
        roles=list(roles),
        email=email,
        is_staff=Role.ADMIN in roles,
        is_superuser=Role.ADMIN in roles,
    )
    _check_password(password, user)
    user.set_password(password)
    with transaction.atomic():
        user.save()
        audit.record(actor=None, action="account.staff_create", target=user, data={"roles": list(roles)})
    return user


# --- login lockout -------------------------------------------------------------------------------


def login_locked_until(user: User):
    if user.locked_until and user.locked_until > timezone.now():
        return user.locked_until
    return None


def login_failed(user: User) -> None:
    """Counts a failed login; the N-th failure in a row locks the account for a while."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        locked.failed_logins += 1
        fields = ["failed_logins"]
        if locked.failed_logins >= settings.LOGIN_MAX_FAILURES:
            locked.locked_until = timezone.now() + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
            locked.failed_logins = 0
            fields.append("locked_until")
            audit.record(actor=None, action="account.locked", target=locked, data={})
        locked.save(update_fields=fields)


def login_succeeded(user: User) -> None:
    if user.failed_logins or user.locked_until:
        User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)


# --- API tokens ----------------------------------------------------------------------------------


def api_token_issue(*, user: User, name: str) -> str:
    """Creates a token and returns it; only its hash is stored, so this is the one time it is seen."""
    key = "tb_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        ApiToken.objects.create(user=user, name=name, key_hash=ApiToken.hash_key(key), prefix=key[:8])
        audit.record(actor=user, action="account.token_issue", target=user, data={"name": name})
    return key


def preferences_set(*, user: User, large_text: bool) -> None:
    User.objects.filter(pk=user.pk).update(large_text=large_text)
