"""Every change to certificates goes through here: issue (from a case decided 准予, or from an
issuer's own system), suspend, revoke, reinstate, publish this node's status list, and keep the
certificates other nodes issued to this node's people.

A certificate row is written once and never edited after its issuing transaction; a status change
is a status event row plus a new signed status list, in one transaction.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import jsonschema
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from stdnum.cn import ric, uscc

from tongban.certificates import error_codes as codes
from tongban.certificates.constants import (
    STATUS_BITS,
    STATUS_TRANSITIONS,
    CertificateStatus,
    HolderIdType,
    NumberRule,
    Origin,
    StatusAction,
)
from tongban.certificates.identifiers import identifier_make
from tongban.certificates.models import Certificate, CertificateStatusEvent, CertificateType, StatusListRecord
from tongban.certificates.sdjwt import sdjwt_issue
from tongban.certificates.status_list import status_list_parse, status_list_sign, status_list_uri
from tongban.certificates.verification import VCT_PREFIX
from tongban.core import audit, pii
from tongban.core.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound

ISSUED_MESSAGE = "cert.issued"
STATUS_LIST_MESSAGE = "cert.status_list"
# The status list always covers this many indexes beyond the newest certificate, so a certificate is
# covered by the list other nodes already hold from the moment it is issued.
HEADROOM = 4096
_DISCLOSABLE_TOP = ("number", "holder_name", "holder_id", "holder_id_type")


# --- Issuing -----------------------------------------------------------------------------------------


_types: dict[str, tuple[float, CertificateType]] = {}
TYPE_CACHE_SECONDS = 30.0


def _type(key: str) -> CertificateType:
    """The type, cached per process for a little while (types change with a data load, rarely)."""
    hit = _types.get(key)
    if hit is not None and time.monotonic() - hit[0] < TYPE_CACHE_SECONDS:
        return hit[1]
    ctype = CertificateType.objects.filter(key=key).first()
    if ctype is None:
        raise NotFound(codes.TYPE_UNKNOWN, f"电子证照类型“{key}”不存在。")
    _types[key] = (time.monotonic(), ctype)
    return ctype


def certificate_type_kept(key: str) -> CertificateType | None:
    """The type kept by this process (as issuing keeps it), or None when there is no such type."""
    try:
        return _type(key)
    except NotFound:
        return None


def _check_holder(holder_id_type: str, holder_id: str) -> str:
    value = (holder_id or "").strip().upper()
    check = {HolderIdType.RESIDENT_ID: ric, HolderIdType.USCC: uscc}.get(holder_id_type)
    if check is None or not check.is_valid(value):
        label = HolderIdType(holder_id_type).label if holder_id_type in HolderIdType.values else "证件"
        raise InvalidInput(
            codes.FIELDS_INVALID,
            f"持证主体的{label}号码无效。",
            errors=[FieldError("holder_id", f"请填写有效的{label}号码。", codes.FIELDS_INVALID)],
        )
    return value


def _check_data(ctype: CertificateType, data: dict) -> dict:
    validator = jsonschema.Draft202012Validator(ctype.field_schema)
    errors = []
    for error in validator.iter_errors(data):
        field = error.path[0] if error.path else ""
        if error.validator == "required":
            field = error.message.split("'")[1]
            message = f"缺少“{ctype.field_schema['properties'][field]['title']}”。"
        elif error.validator == "additionalProperties":
            message = f"“{ctype.name}”没有这些字段：{error.message}"
        else:
            title = ctype.field_schema["properties"].get(str(field), {}).get("title", field)
            message = f"“{title}”的值不符合要求。"
        errors.append(FieldError(f"data.{field}" if field else "data", message, codes.FIELDS_INVALID))
    if errors:
        raise InvalidInput(codes.FIELDS_INVALID, f"{ctype.name}的照面信息不完整或有误。", errors=errors)
    return data


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)


def valid_until_for(ctype: CertificateType, valid_from: date) -> date | None:
    """The last day of validity: the rule's years or months later, less one day; None for 长期."""
    rule = ctype.validity or {}
    months = rule.get("years", 0) * 12 + rule.get("months", 0)
    return _add_months(valid_from, months) - timedelta(days=1) if months else None


_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _org_code_check(body: str) -> str:
    """GB 11714 check character of an eight-character organisation code body."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c, 36) * w for c, w in zip(body, weights, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def new_enterprise_uscc(jurisdiction_code: str, serial: int) -> str:
    """A 统一社会信用代码 for a newly registered enterprise: 9 (market regulation), 1 (enterprise), the
    registering authority's division code, an organisation code ``MA`` + six characters from the
    serial (unique per node, and divisions never overlap between nodes), and the check character."""
    chars = []
    n = serial
    for _ in range(6):
        n, r = divmod(n, len(_USCC_ALPHABET))
        chars.append(_USCC_ALPHABET[r])
    body = "MA" + "".join(reversed(chars))
    org = body + _org_code_check(body)
    code17 = f"91{jurisdiction_code}{org}"
    return code17 + uscc.calc_check_digit(code17)


def _epoch(day: date) -> int:
    """The start of ``day`` in China (certificate dates are the issuer's calendar days)."""
    from django.utils import timezone

    return int(datetime(day.year, day.month, day.day, tzinfo=timezone.get_default_timezone()).timestamp())


def _credential(cert: Certificate, ctype: CertificateType, holder_id: str, signer) -> str:
    claims = {
        "iss": cert.issuer_node,
        "iat": int(cert.issued_at.timestamp()),
        "nbf": _epoch(cert.valid_from),
        "vct": VCT_PREFIX + cert.type_code,
        "id": cert.identifier,
        "type_code": cert.type_code,
        "type_name": cert.type_name,
        "version": cert.version,
        "issuer": {"name": cert.issuer_name, "code": cert.issuer_code},
        "issue_date": cert.issue_date.isoformat(),
        "valid_from": cert.valid_from.isoformat(),
        "valid_until": cert.valid_until.isoformat() if cert.valid_until else None,
        "jurisdiction": cert.jurisdiction_code,
        "status": {"status_list": {"idx": cert.status_index, "uri": status_list_uri(cert.issuer_node)}},
    }
    if cert.valid_until:
        claims["exp"] = _epoch(cert.valid_until + timedelta(days=1))  # valid through its last day
    disclosable = {
        "number": cert.number,
        "holder_name": cert.holder_name,
        "holder_id": holder_id,
        "holder_id_type": cert.holder_id_type,
    }
    return sdjwt_issue(claims=claims, disclosable=disclosable, nested={"data": cert.data}, signer=signer)


def certificate_issue(
    *,
    type_key: str,
    holder_name: str,
    holder_id_type: str,
    holder_id: str,
    data: dict,
    issuer,
    jurisdiction_code: str = "",
    number: str = "",
    valid_from: date | None = None,
    source_case=None,
    applicant_id_hash: str = "",
    supersedes: Certificate | None = None,
    actor=None,
    signer=None,
) -> Certificate:
    """Issues one certificate in this node's name for ``issuer`` (an authority Organisation of this
    node) and returns it. Runs inside the caller's transaction when there is one (a case decided
    准予 issues in the same transaction as the decision)."""
    ctype = _type(type_key)
    holder_name = (holder_name or "").strip()
    if not holder_name:
        raise InvalidInput(
            codes.FIELDS_INVALID,
            "请填写持证主体名称。",
            errors=[FieldError("holder_name", "请填写持证主体名称。", codes.FIELDS_INVALID)],
        )
    holder_id = _check_holder(holder_id_type, holder_id)
    data = _check_data(ctype, {k: v for k, v in (data or {}).items() if v not in (None, "")})
    if supersedes is not None and supersedes.issuer_node != settings.NODE_CODE:
        raise Forbidden(codes.NOT_ISSUER, "只有签发节点才能换发证照的新版本。")
    signer = signer or _signer()
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.astimezone().date()
    valid_from = valid_from or today
    jurisdiction_code = jurisdiction_code or issuer.region_id
    with transaction.atomic():
        cert = Certificate(
            type=ctype,
            type_code=ctype.code,
            type_name=ctype.name,
            version=supersedes.version + 1 if supersedes else 1,
            supersedes=supersedes,
            number=number,
            holder_name=holder_name,
            holder_id_type=holder_id_type,
            applicant_id_hash=applicant_id_hash,
            issuer_name=issuer.name,
            issuer_code=issuer.uscc,
            issuer_node=settings.NODE_CODE,
            issue_date=today,
            valid_from=valid_from,
            valid_until=valid_until_for(ctype, valid_from),
            jurisdiction_code=jurisdiction_code,
            data=data,
            alg=signer.alg,
            kid=signer.kid,
            source_case=source_case,
            issued_at=now,
        )
        index = next_index()
        if index is None:
            # No sequence (SQLite, one writer at a time): the row id is the number.
            cert.identifier, cert.credential, cert.holder_id_enc = f"pending:{uuid.uuid4()}", "", ""
            cert.serial = 0
            cert.save(force_insert=True)
            index = cert.pk
        _complete(
            cert,
            ctype,
            holder_id,
            index=index,
            serial=supersedes.serial if supersedes else index,
            signer=signer,
        )
        if cert.pk is None:
            cert.save(force_insert=True)
        else:
            Certificate.objects.filter(pk=cert.pk).update(
                **{
                    f: getattr(cert, f)
                    for f in (
                        "status_index",
                        "serial",
                        "identifier",
                        "number",
                        "holder_id_enc",
                        "holder_id_hash",
                        "credential",
                    )
                }
            )
        CertificateStatusEvent.objects.create(
            certificate=cert,
            action=StatusAction.ISSUE,
            to_status=CertificateStatus.VALID,
            actor=actor,
            at=now,
        )
        audit.record(
            actor=actor,
            action="certificate.issue",
            target=cert,
            data={"identifier": cert.identifier, "case": source_case.number if source_case else ""},
        )
        revoked_old = supersedes is not None and supersedes.status != CertificateStatus.REVOKED
        if revoked_old:
            # The old version stops being valid when the new one is issued.
            _change_status(
                supersedes,
                StatusAction.REVOKE,
                reason=f"已换发新版本 {cert.identifier}",
                actor=actor,
                now=now,
            )
        if revoked_old or cert.status_index >= _own_list_size(cert.status_index) - HEADROOM // 4:
            status_list_publish()
        if source_case is not None and source_case.receiving_node != settings.NODE_CODE:
            _send_to_holder_node(cert, source_case.receiving_node, source_case.number)
    return cert


def _signer():
    """This node's signer; a node that has never signed anything makes its key now (a federated node
    made it when it joined, so this only happens on a stand-alone node, whose own key it trusts)."""
    from tongban.exchange import error_codes as xcodes
    from tongban.exchange.keys import NodeKeyError, node_key_init, node_signer

    try:
        return node_signer()
    except NodeKeyError as exc:
        if exc.code != xcodes.NODE_KEY_MISSING:
            raise
        node_key_init()
        return node_signer()


def _complete(
    cert: Certificate, ctype: CertificateType, holder_id: str, *, index: int, serial: int, signer
) -> None:
    """Fills in what follows from the allocated number: status-list index, serial, identifier,
    number (by the type's rule) and the signed credential."""
    cert.status_index = index
    cert.serial = serial
    cert.identifier = str(
        identifier_make(
            type_code=ctype.code, issuer_code=cert.issuer_code, serial=serial, version=cert.version
        )
    )
    if not cert.number:
        cert.number = {
            NumberRule.HOLDER_ID: holder_id,
            NumberRule.NEW_USCC: new_enterprise_uscc(cert.jurisdiction_code, serial),
            NumberRule.SERIAL: f"{cert.jurisdiction_code}{cert.issue_date.year}{serial:08d}",
        }[ctype.number_rule]
        if ctype.number_rule == NumberRule.NEW_USCC:
            holder_id = cert.number  # the new enterprise is the holder: its new code is its id
    cert.holder_id_enc = pii.encrypt(holder_id, purpose="certificate_holder_id")
    cert.holder_id_hash = pii.lookup_hash(holder_id, purpose="id_number")
    cert.credential = _credential(cert, ctype, holder_id, signer)


# Numbers (status-list index, and serial of a first version) come from a PostgreSQL sequence, taken a
# block at a time per process: unique on this node, never rolled back (a gap costs two bits of the
# status list), and no row every issue would have to lock.
SEQUENCE = "certificates_number_seq"
BLOCK = 50
_block = {"next": 0, "end": 0, "db": None}
_block_lock = threading.Lock()


def next_index() -> int | None:
    """The next number for a certificate of this node, or None where the database has no sequences."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with _block_lock:
        if _block["next"] >= _block["end"] or _block["db"] != connection.settings_dict["NAME"]:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT nextval('{SEQUENCE}') FROM generate_series(1, %s)", [BLOCK])
                numbers = sorted(row[0] for row in cursor.fetchall())
            # A block is contiguous unless another process took numbers in between; use what we got.
            _block.update(next=0, end=len(numbers), db=connection.settings_dict["NAME"], numbers=numbers)
        number = _block["numbers"][_block["next"]]
        _block["next"] += 1
        return number


def certificate_issue_by_staff(*, actor, type_key: str, **fields) -> Certificate:
    """Issues in the name of the actor's authority (an authority's own system, or a person at it)."""
    from tongban.certificates.access import check_can_issue

    check_can_issue(actor)
    return certificate_issue(type_key=type_key, issuer=actor.organisation, actor=actor, **fields)


def _send_to_holder_node(cert: Certificate, node: str, case_number: str) -> None:
    from tongban.exchange.outbox import enqueue

    enqueue(
        recipient=node,
        type=ISSUED_MESSAGE,
        payload={"credential": cert.credential, "case": case_number},
        ordering_key=case_number,
    )


# --- From a case decided 准予 -------------------------------------------------------------------------


def _source_value(source: str, case) -> str | None:
    if source.startswith("const:"):
        return source[len("const:") :]
    path, _, unit = source.partition("|")
    scope, _, name = path.partition(".")
    if scope == "form":
        value = (case.form_data or {}).get(name)
    elif scope == "applicant":
        value = {"name": case.applicant_name}.get(name)
    elif scope == "case":
        value = {
            "number": case.number,
            "decided_on": (case.decided_at or datetime.now(UTC)).astimezone().date().isoformat(),
        }.get(name)
    elif scope == "item":
        from tongban.regions import divisions

        if name == "city_name":
            division = divisions.lookup(case.item.city_code)
            value = division.name if division else case.item.city_code
        else:
            value = {"name": case.item.name}.get(name)
    else:
        value = None
    if value in (None, ""):
        return None
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return f"{text}{unit}" if unit else text


def certificate_issue_for_case(case, *, actor=None) -> Certificate | None:
    """Issues the certificate the case's item produces, if any (called when the case is decided 准予,
    inside that transaction). Enterprise licences (NEW_USCC) are held by the new enterprise, named
    after the form; every other type by the applicant."""
    key = case.item.issues_certificate
    if not key:
        return None
    ctype = _type(key)
    data = {}
    for field, sources in (ctype.from_case or {}).items():
        for source in sources:
            value = _source_value(source, case)
            if value is not None:
                data[field] = value
                break
    applicant_id = pii.decrypt(case.applicant_id_enc, purpose="id_number")
    if ctype.number_rule == NumberRule.NEW_USCC:
        holder = {"holder_name": data.get("name") or case.applicant_name, "holder_id_type": HolderIdType.USCC}
        # A placeholder that passes the check; replaced by the new code inside certificate_issue.
        holder["holder_id"] = new_enterprise_uscc(case.handling_org.region_id, 1)
    else:
        holder = {
            "holder_name": case.applicant_name,
            "holder_id_type": HolderIdType.USCC
            if case.applicant_id_type == "uscc"
            else HolderIdType.RESIDENT_ID,
            "holder_id": applicant_id,
        }
    return certificate_issue(
        type_key=key,
        data=data,
        issuer=case.handling_org,
        jurisdiction_code=case.item.region_id,
        source_case=case,
        applicant_id_hash=case.applicant_id_hash,
        actor=actor,
        **holder,
    )


# --- Status ------------------------------------------------------------------------------------------


def _change_status(cert: Certificate, action: str, *, reason: str, actor, now: datetime) -> None:
    allowed_from, to_status = STATUS_TRANSITIONS[action]
    if cert.status not in allowed_from:
        raise Conflict(
            codes.STATUS_CHANGE_REFUSED,
            f"证照当前为“{CertificateStatus(cert.status).label}”，不能“{StatusAction(action).label}”。",
            details={"status": cert.status, "action": action},
        )
    CertificateStatusEvent.objects.create(
        certificate=cert,
        action=action,
        from_status=cert.status,
        to_status=to_status,
        reason=reason,
        actor=actor,
        at=now,
    )
    Certificate.objects.filter(pk=cert.pk).update(status=to_status)
    audit.record(
        actor=actor,
        action=f"certificate.{action}",
        target=cert,
        data={"identifier": cert.identifier, "from": cert.status, "to": to_status},
    )
    cert.status = to_status


def certificate_status_change(*, identifier: str, action: str, reason: str, actor) -> Certificate:
    """Suspends, revokes or reinstates a certificate this node issued, and signs a new status list
    at once (this node refuses it from now on; the others within one status-sync interval)."""
    from tongban.certificates.access import check_can_change_status

    if action not in STATUS_TRANSITIONS:
        raise InvalidInput(codes.STATUS_CHANGE_REFUSED, f"未知的状态操作“{action}”。")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            codes.STATUS_CHANGE_REFUSED,
            f"“{StatusAction(action).label}”必须写明理由。",
            errors=[FieldError("reason", "请写明理由。", codes.STATUS_CHANGE_REFUSED)],
        )
    with transaction.atomic():
        cert = Certificate.objects.select_for_update().filter(identifier=identifier).first()
        if cert is None:
            raise NotFound(codes.NOT_FOUND, f"找不到证照 {identifier}。")
        if cert.issuer_node != settings.NODE_CODE:
            raise Forbidden(codes.NOT_ISSUER, "只有签发节点的颁证单位才能变更证照状态。")
        check_can_change_status(actor, cert)
        _change_status(cert, action, reason=reason, actor=actor, now=datetime.now(UTC))
        status_list_publish()
    return cert


# --- Status lists ------------------------------------------------------------------------------------


_own_size = {"size": 0}


def caches_clear() -> None:
    """Forgets what this process cached (types, the size of its own status list, numbers taken)."""
    _types.clear()
    _own_size["size"] = 0
    _block.update(next=0, end=0, db=None)


def _own_list_size(index: int) -> int:
    """How many indexes this node's status list covers. Kept in the process once read: it only
    grows, so it is read again only when ``index`` comes near the end of what is known."""
    if index < _own_size["size"] - HEADROOM // 4:
        return _own_size["size"]
    size = (
        StatusListRecord.objects.filter(issuer_node=settings.NODE_CODE).values_list("size", flat=True).first()
    )
    _own_size["size"] = size or 0
    return _own_size["size"]


def status_list_publish(*, now: datetime | None = None) -> StatusListRecord:
    """Signs this node's status list from the certificates it issued and keeps it as the newest
    (inside the caller's transaction). The worker sends it to the other nodes (``status_list_broadcast``)."""
    from tongban.certificates.selectors import invalidate_status_cache

    now = (now or datetime.now(UTC)).replace(microsecond=0)
    previous = (
        StatusListRecord.objects.filter(issuer_node=settings.NODE_CODE)
        .values_list("issued_at", flat=True)
        .first()
    )
    if previous is not None and now <= previous:
        # Receivers keep a list only if it is newer (``iat``, whole seconds): two changes within a
        # second must still give two lists the others can tell apart.
        now = previous + timedelta(seconds=1)
    own = Certificate.objects.filter(issuer_node=settings.NODE_CODE, origin=Origin.ISSUED)
    newest = own.aggregate(m=Max("status_index"))["m"] or 0
    size = (newest // HEADROOM + 2) * HEADROOM
    statuses = {
        idx: STATUS_BITS[status]
        for idx, status in own.exclude(status=CertificateStatus.VALID).values_list("status_index", "status")
    }
    token = status_list_sign(
        issuer=settings.NODE_CODE,
        statuses=statuses,
        size=size,
        signer=_signer(),
        issued_at=now,
        lifetime=settings.CERT_STATUS_LIST_LIFETIME_HOURS * 3600,
        ttl=settings.CERT_STATUS_SYNC_SECONDS,
    )
    parsed = status_list_parse(token)
    record, _ = StatusListRecord.objects.update_or_create(
        issuer_node=settings.NODE_CODE,
        defaults={
            "token": token,
            "issued_at": parsed.issued_at,
            "expires_at": parsed.expires_at,
            "size": size,
            "received_at": now,
        },
    )
    transaction.on_commit(invalidate_status_cache)
    return record


@dataclass
class BroadcastResult:
    published: bool
    sent_to: list[str]


def status_list_broadcast(*, now: datetime | None = None, force: bool = False) -> BroadcastResult:
    """The periodic step (every ``TONGBAN_CERT_STATUS_SYNC_SECONDS``): re-signs this node's status list
    when it is due (none yet, or older than ``TONGBAN_CERT_STATUS_REFRESH_MINUTES``), and sends the newest
    list to every other active member when it has not been sent yet."""
    from tongban.exchange.outbox import enqueue
    from tongban.exchange.trust import current_trust_list

    now = now or datetime.now(UTC)
    with transaction.atomic():
        record = StatusListRecord.objects.select_for_update().filter(issuer_node=settings.NODE_CODE).first()
        if (
            record is None
            and not Certificate.objects.filter(issuer_node=settings.NODE_CODE, origin=Origin.ISSUED).exists()
        ):
            return BroadcastResult(False, [])  # a node that never issued a certificate has no list to send
        published = False
        if record is None or now - record.issued_at >= timedelta(
            minutes=settings.CERT_STATUS_REFRESH_MINUTES
        ):
            record = status_list_publish(now=now)
            published = True
        if record.broadcast_at == record.issued_at and not force:
            return BroadcastResult(published, [])  # this list was sent already
        trust = current_trust_list()
        recipients = sorted(c for c, m in trust.members.items() if c != settings.NODE_CODE and m.active)
        for code in recipients:
            enqueue(
                recipient=code,
                type=STATUS_LIST_MESSAGE,
                payload={"token": record.token},
                ordering_key="status-list",
            )
        StatusListRecord.objects.filter(pk=record.pk).update(broadcast_at=record.issued_at)
    return BroadcastResult(published, recipients)


def status_list_store(token: str, *, sender: str | None = None) -> StatusListRecord | None:
    """Keeps another node's status list if it verifies and is newer than the one held. A node may
    only publish its own list. Returns the stored record, or None when the held one is as new."""
    from tongban.certificates.selectors import invalidate_status_cache
    from tongban.certificates.verification import status_list_accept
    from tongban.exchange.trust import current_trust_list

    parsed = status_list_accept(token, trust=current_trust_list())
    if sender is not None and parsed.issuer != sender:
        raise Forbidden(codes.NOT_ISSUER, f"节点 {sender} 不能发布节点 {parsed.issuer} 的状态列表。")
    if parsed.issuer == settings.NODE_CODE:
        return None  # this node's own list is made here, never taken from elsewhere
    with transaction.atomic():
        held = StatusListRecord.objects.select_for_update().filter(issuer_node=parsed.issuer).first()
        if held is not None and held.issued_at >= parsed.issued_at:
            return None
        record, _ = StatusListRecord.objects.update_or_create(
            issuer_node=parsed.issuer,
            defaults={
                "token": parsed.token,
                "issued_at": parsed.issued_at,
                "expires_at": parsed.expires_at,
                "size": len(parsed.data) * 4,
                "received_at": datetime.now(UTC),
            },
        )
        transaction.on_commit(invalidate_status_cache)
    return record


# --- Certificates issued elsewhere to people of this node --------------------------------------------


def certificate_receive(credential: str, *, sender: str, case_number: str = "") -> Certificate:
    """Keeps a certificate another node issued from a case applied for here, so the holder finds it
    among their certificates. It must verify (signature, issuer, identifier); its status may be
    anything (a revoked one is kept and shown as such). Receiving it twice keeps it once."""
    from tongban.cases.models import Case
    from tongban.certificates.selectors import node_verifier

    verdict = node_verifier().verify(credential)
    if not verdict.valid and verdict.code not in (
        codes.REVOKED,
        codes.SUSPENDED,
        codes.STATUS_UNKNOWN,
        codes.EXPIRED,
    ):
        raise InvalidInput(verdict.code, f"收到的电子证照未通过核验：{verdict.reason}")
    claims = verdict.claims or _claims_without_status(credential)
    if claims.get("iss") != sender:
        raise Forbidden(codes.NOT_ISSUER, f"节点 {sender} 不能转交节点 {claims.get('iss')} 签发的证照。")
    existing = Certificate.objects.filter(identifier=claims["id"]).first()
    if existing is not None:
        return existing
    ctype = CertificateType.objects.filter(code=claims["type_code"]).first()
    if ctype is None:
        raise InvalidInput(codes.TYPE_UNKNOWN, f"本节点不认识证照类型 {claims['type_code']}。")
    case = Case.objects.filter(number=case_number).first() if case_number else None
    header_kid, header_alg = _header_of(credential)
    holder_id = claims["holder_id"]
    with transaction.atomic():
        return Certificate.objects.create(
            identifier=claims["id"],
            type=ctype,
            type_code=claims["type_code"],
            type_name=claims["type_name"],
            serial=int(claims["id"].split(".")[-3]),
            version=claims["version"],
            number=claims["number"],
            holder_name=claims["holder_name"],
            holder_id_type=claims["holder_id_type"],
            holder_id_enc=pii.encrypt(holder_id, purpose="certificate_holder_id"),
            holder_id_hash=pii.lookup_hash(holder_id, purpose="id_number"),
            applicant_id_hash=case.applicant_id_hash if case else "",
            issuer_name=claims["issuer"]["name"],
            issuer_code=claims["issuer"]["code"],
            issuer_node=claims["iss"],
            issue_date=date.fromisoformat(claims["issue_date"]),
            valid_from=date.fromisoformat(claims["valid_from"]),
            valid_until=date.fromisoformat(claims["valid_until"]) if claims.get("valid_until") else None,
            jurisdiction_code=claims["jurisdiction"],
            data=claims.get("data", {}),
            status_index=claims["status"]["status_list"]["idx"],
            credential=credential,
            alg=header_alg,
            kid=header_kid,
            origin=Origin.RECEIVED,
            source_case=case,
            issued_at=datetime.fromtimestamp(claims["iat"], UTC),
        )


def _header_of(credential: str) -> tuple[str, str]:
    import json

    from tongban.exchange.signing import b64u_decode

    header = json.loads(b64u_decode(credential.split(".", 1)[0]))
    return header["kid"], header["alg"]


def _claims_without_status(credential: str) -> dict:
    from tongban.certificates import error_codes as c
    from tongban.certificates.sdjwt import sdjwt_parse

    return sdjwt_parse(credential, malformed=c.MALFORMED, disclosure_invalid=c.DISCLOSURE_INVALID).claims
