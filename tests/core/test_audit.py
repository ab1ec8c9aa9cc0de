"""The hash-chained audit log: appends, sealing, immutability, and detection of tampering."""

import datetime as dt
import threading
import time
import uuid

import pytest
from django.db import connection, connections, transaction

from tongban.core import audit, error_codes
from tongban.core.context import Origin, acting_from
from tongban.core.errors import Conflict
from tongban.core.models import AuditEntry, AuditHead, HolidayYear

pytestmark = pytest.mark.django_db


class Boom(Exception):
    pass


def write(n: int, action: str = "test.act") -> list[AuditEntry]:
    """Records n entries and seals them; returns them as sealed."""
    ids = [audit.record(actor=None, action=action, data={"i": i}).pk for i in range(1, n + 1)]
    audit.seal()
    return list(AuditEntry.objects.filter(pk__in=ids).order_by("seq"))


def test_clean_chain_verifies():
    write(5)
    assert audit.verify() == audit.AuditVerdict(ok=True, checked=5, first_broken_seq=None, reason="")


def test_empty_log_verifies():
    assert audit.verify().ok


def test_recorded_entries_wait_unsealed_until_seal():
    entry = audit.record(actor=None, action="test.act")
    entry.refresh_from_db()
    assert (entry.seq, entry.prev_hash, entry.entry_hash) == (None, "", "")
    assert audit.verify() == audit.AuditVerdict(
        ok=True, checked=0, first_broken_seq=None, reason="", pending=1
    )
    assert audit.seal() == 1
    assert audit.verify() == audit.AuditVerdict(ok=True, checked=1, first_broken_seq=None, reason="")
    assert audit.seal() == 0


def test_sealing_appends_to_the_chain_in_insert_order():
    write(2)
    later = [audit.record(actor=None, action="test.later", data={"i": i}).pk for i in range(3)]
    assert audit.verify().pending == 3
    audit.seal()
    assert list(AuditEntry.objects.filter(pk__in=later).order_by("pk").values_list("seq", flat=True)) == [
        3,
        4,
        5,
    ]
    assert audit.verify() == audit.AuditVerdict(ok=True, checked=5, first_broken_seq=None, reason="")


def test_sealing_runs_in_batches(monkeypatch):
    monkeypatch.setattr(audit, "_SEAL_BATCH", 2)
    for i in range(5):
        audit.record(actor=None, action="test.act", data={"i": i})
    assert audit.seal() == 5
    assert audit.verify().checked == 5


def test_entries_are_numbered_and_linked_from_genesis():
    first, second = write(2)
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == audit.GENESIS_HASH
    assert second.prev_hash == first.entry_hash
    head = AuditHead.objects.get()
    assert (head.last_seq, head.last_hash) == (2, second.entry_hash)


def test_entry_records_origin_and_system_actor():
    with acting_from(Origin(channel="web", address="10.1.2.3")):
        entry = audit.record(actor=None, action="test.origin")
    entry.refresh_from_db()
    assert (entry.channel, entry.address, entry.actor_id, entry.actor_label) == (
        "web",
        "10.1.2.3",
        None,
        "system",
    )


def test_entry_records_the_acting_user(django_user_model):
    user = django_user_model.objects.create_user(username="zhangsan", password="x-Strong-pass-1")
    entry = audit.record(actor=user, action="test.user", target=user)
    assert (entry.actor_id, entry.actor_label) == (user.pk, "zhangsan")
    # Users have a public UUID: it is what the log names, not the internal key.
    assert (entry.target_type, entry.target_id) == ("accounts.user", str(user.public_id))


def test_target_is_named_by_business_number_then_public_id_then_pk():
    year = HolidayYear.objects.create(year=2030, source="测试")
    assert audit.record(actor=None, action="t", target=year).target_id == str(year.pk)
    year.public_id = uuid.UUID(int=7)
    assert audit.record(actor=None, action="t", target=year).target_id == str(uuid.UUID(int=7))
    year.number = "SH2026112100001"
    entry = audit.record(actor=None, action="t", target=year)
    assert (entry.target_type, entry.target_id) == ("core.holidayyear", "SH2026112100001")


def test_data_of_any_json_shape_survives_the_database_round_trip():
    audit.record(
        actor=None,
        action="test.data",
        data={
            "z": [1, 2.5, None, True],
            "a": {"名称": "元旦", "when": dt.date(2027, 1, 1)},
            "id": uuid.UUID(int=1),
        },
    )
    audit.seal()
    assert audit.verify().checked == 1
    assert AuditEntry.objects.get().data["a"]["when"] == "2027-01-01"


def test_personal_data_in_audit_data_is_masked():
    entry = audit.record(
        actor=None, action="test.pii", data={"note": "身份证 340102199001011234 手机 13812345678"}
    )
    assert "340102199001011234" not in str(entry.data)
    assert "13812345678" not in str(entry.data)
    audit.seal()
    assert audit.verify().checked == 1


def test_record_in_rolled_back_transaction_leaves_no_entry():
    write(1)
    with pytest.raises(Boom), transaction.atomic():
        audit.record(actor=None, action="test.rolled_back")
        raise Boom
    assert list(AuditEntry.objects.values_list("action", flat=True)) == ["test.act"]
    assert audit.seal() == 0
    assert AuditHead.objects.get().last_seq == 1
    assert audit.verify().ok
    audit.record(actor=None, action="test.after")
    audit.seal()
    assert AuditEntry.objects.get(action="test.after").seq == 2


def test_tampered_data_is_named_by_seq():
    write(5)
    AuditEntry.objects.filter(seq=3).update(data={"i": 999})
    verdict = audit.verify()
    assert (verdict.ok, verdict.first_broken_seq, verdict.checked) == (False, 3, 2)
    assert "改动" in verdict.reason


def test_tampered_entry_with_recomputed_hash_breaks_the_next_link():
    write(5)
    forged = AuditEntry.objects.get(seq=3)
    forged.action = "test.forged"
    AuditEntry.objects.filter(seq=3).update(action="test.forged", entry_hash=audit._entry_hash(forged))
    verdict = audit.verify()
    assert (verdict.ok, verdict.first_broken_seq) == (False, 4)


def test_deleted_middle_entry_is_detected():
    write(5)
    AuditEntry.objects.filter(seq=3).delete()
    verdict = audit.verify()
    assert (verdict.ok, verdict.first_broken_seq) == (False, 4)
    assert "第 3 至 3 条记录缺失" in verdict.reason


def test_deleted_first_entry_is_detected():
    write(3)
    AuditEntry.objects.filter(seq=1).delete()
    assert audit.verify().first_broken_seq == 2


def test_truncated_tail_is_detected_through_the_head():
    write(5)
    AuditEntry.objects.filter(seq__gte=4).delete()
    verdict = audit.verify()
    assert (verdict.ok, verdict.first_broken_seq, verdict.checked) == (False, 4, 3)


def test_rewritten_head_is_detected():
    write(2)
    AuditHead.objects.update(last_hash="f" * 64)
    assert audit.verify().ok is False


def test_missing_head_with_entries_is_detected_and_stops_sealing():
    write(2)
    AuditHead.objects.all().delete()
    assert audit.verify().ok is False
    # A new head next to the old entries would hide a truncated chain: sealing stops instead.
    audit.record(actor=None, action="test.after")
    with pytest.raises(RuntimeError):
        audit.seal()
    assert AuditEntry.objects.get(action="test.after").seq is None


def test_sealed_entry_made_to_look_pending_is_detected():
    write(5)
    AuditEntry.objects.filter(seq=3).update(seq=None, prev_hash="", entry_hash="")
    audit.seal()  # re-chained at the end, which leaves a hole where it was
    verdict = audit.verify()
    assert (verdict.ok, verdict.first_broken_seq) == (False, 4)
    assert "第 3 至 3 条记录缺失" in verdict.reason


def test_tampered_pending_entry_is_sealed_as_it_is_found():
    """The documented limit: before sealing (about a second) an entry is protected by database
    permissions only; whatever it holds when sealed is what the chain then vouches for."""
    entry = audit.record(actor=None, action="test.act")
    AuditEntry.objects.filter(pk=entry.pk).update(action="test.changed_before_sealing")
    audit.seal()
    assert audit.verify().ok
    assert AuditEntry.objects.get(pk=entry.pk).action == "test.changed_before_sealing"


def test_entries_cannot_be_changed_or_deleted_through_the_model():
    entry = write(1)[0]
    entry.action = "test.changed"
    with pytest.raises(Conflict) as exc:
        entry.save()
    assert exc.value.code == error_codes.AUDIT_ENTRY_IMMUTABLE
    with pytest.raises(Conflict):
        entry.delete()
    assert AuditEntry.objects.get().action == "test.act"


def test_verify_reads_in_chunks(monkeypatch):
    monkeypatch.setattr(audit, "_VERIFY_CHUNK", 2)
    write(7)
    assert audit.verify().checked == 7


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_concurrent_appends_and_sealers_make_one_gap_free_chain(monkeypatch):
    threads_n, per_thread = 8, 5
    barrier = threading.Barrier(threads_n)
    failures: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                with transaction.atomic():
                    audit.record(actor=None, action="test.concurrent", data={"k": k, "i": i})
                audit.seal()  # several sealers at once, each taking what is committed
        except BaseException as exc:  # reported below; a thread cannot fail the test itself
            failures.append(exc)
        finally:
            connections.close_all()

    monkeypatch.setattr(audit, "_seal_soon", lambda: None)  # only the explicit sealers above
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    audit.seal()
    assert sorted(AuditEntry.objects.values_list("seq", flat=True)) == list(
        range(1, threads_n * per_thread + 1)
    )
    assert audit.verify() == audit.AuditVerdict(
        ok=True, checked=threads_n * per_thread, first_broken_seq=None, reason=""
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the sealing thread needs a shared database")
def test_committed_entries_are_sealed_in_the_background(monkeypatch):
    monkeypatch.setattr(audit, "SEAL_DELAY_SECONDS", 0.05)
    with transaction.atomic():
        entry = audit.record(actor=None, action="test.background")
    deadline = time.monotonic() + 30
    while entry.seq is None and time.monotonic() < deadline:
        time.sleep(0.05)
        entry.refresh_from_db()
    assert entry.seq == 1
    assert audit.verify() == audit.AuditVerdict(ok=True, checked=1, first_broken_seq=None, reason="")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the sealing thread needs a shared database")
def test_one_sealer_thread_per_process_keeps_sealing_and_stops_with_its_connection_closed(monkeypatch):
    monkeypatch.setattr(audit, "SEAL_DELAY_SECONDS", 0.05)
    audit.sealer_stop()  # one an earlier test started
    sessions_before = _other_sessions()
    entries = []
    for k in range(3):
        with transaction.atomic():
            entries.append(audit.record(actor=None, action="test.background", data={"k": k}))
        time.sleep(0.2)  # each commit after the previous seal: the same thread seals them all
    sealer = audit._sealer
    assert sealer is not None and sealer.thread.is_alive()
    assert [t.name for t in threading.enumerate()].count("audit-sealer") == 1
    deadline = time.monotonic() + 30
    while AuditEntry.objects.filter(seq__isnull=True).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(AuditEntry.objects.values_list("seq", flat=True)) == [1, 2, 3]

    with transaction.atomic():
        audit.record(actor=None, action="test.background", data={"k": "last"})
    audit.sealer_stop()
    assert not sealer.thread.is_alive()
    assert not AuditEntry.objects.filter(seq__isnull=True).exists()  # sealed on its way out
    assert _other_sessions() <= sessions_before  # the thread's connection is closed


def _other_sessions() -> set[int]:
    """Backends of the test database other than this thread's (other tests' threads may hold some)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return {pid for (pid,) in cursor.fetchall()}
