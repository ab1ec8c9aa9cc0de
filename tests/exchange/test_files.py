"""Material files of a received case transfer, when the apply dies half-way: no file may stay at a
final name without its row, and the sweeper cleans up what a crash left (the real handler, the real
inbox, files on disk)."""

from __future__ import annotations

import base64
import hashlib
import time
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from tests import factories as f
from tests.exchange import kit
from tongban.cases import federation
from tongban.cases.models import Case, CaseMaterial
from tongban.exchange import files, handlers, inbox
from tongban.exchange.models import InboxMessage, InboxState

pytestmark = pytest.mark.django_db(transaction=True)

GRACE = 3600


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.NODE_CODE = kit.SHANGHAI
    kit.install_trust(settings)
    return settings.MEDIA_ROOT


@pytest.fixture
def item():
    f.region("310000", "上海市")
    authority = f.organisation("上海市市场监督管理局", region_code="310000")
    return f.item(authority, city_code=kit.SHANGHAI)


def transfer(item, number: str) -> dict:
    def material(code: str, name: str) -> dict:
        return {
            "material": code,
            "name": name,
            "content_type": "application/pdf",
            "sha256": hashlib.sha256(f.PDF_BYTES).hexdigest(),
            "round": 0,
            "content_base64": base64.b64encode(f.PDF_BYTES).decode(),
        }

    return {
        "number": number,
        "item": item.implementation_code,
        "item_version": item.version,
        "mode": "full_online",
        "channel": "online",
        "submitted_at": timezone.now().isoformat(),
        "form": {"company_name": "某某有限公司", "capital": 10},
        "applicant": {"name": "张三", "id_type": "id_card", "id_number": f.id_number(), "phone": ""},
        "statement": {"kind": "online_realname", "node": kit.HEFEI, "node_name": "合肥市"},
        "joint_partner_node": "",
        "materials": [material("sqs", "申请书.pdf"), material("zc", "章程.pdf")],
    }


def receive(item, number: str) -> str:
    envelope = kit.envelope(
        type=federation.TRANSFER, payload=transfer(item, number), ordering_key=number, seq=1
    )
    [result] = inbox.receive([envelope])
    assert result["status"] == "accepted", result
    return result["id"]


def stored(media: Path) -> tuple[set[str], set[str]]:
    """(files at final names under cases/, staged files), as paths relative to the media root."""

    def under(top: Path) -> set[str]:
        return (
            {p.relative_to(top).as_posix() for p in top.rglob("*") if p.is_file()} if top.exists() else set()
        )

    return {n for n in under(media) if n.startswith("cases/")}, under(media / files.STAGING)


def test_an_apply_that_dies_before_its_commit_leaves_no_file_at_a_final_name_and_the_sweep_removes_the_rest(
    media, item
):
    def dies_after_the_files_are_written(payload, *, sender, envelope_id):
        federation.on_transfer(payload, sender=sender, envelope_id=envelope_id)
        # The process is gone here: the handler's own clean-up never runs, nothing commits.
        raise RuntimeError("killed")

    message_id = receive(item, "34010020261121000001X")
    with handlers.override(federation.TRANSFER, dies_after_the_files_are_written):
        assert inbox.apply_pending() == 0
    assert InboxMessage.objects.get(pk=message_id).state == InboxState.FAILED
    assert not Case.objects.exists() and not CaseMaterial.objects.exists()
    final, staged = stored(media)
    assert final == set()  # nothing at a name a row could have pointed to
    # two materials per attempt (the inbox tries a group at once, then the failing message alone)
    assert staged and len(staged) % 2 == 0

    assert files.sweep(grace_seconds=GRACE).deleted_staged == 0  # its transaction may still commit
    assert files.finish_staged().deleted_staged == 0
    assert stored(media)[1] == staged
    report = files.sweep(grace_seconds=GRACE, now=time.time() + GRACE + 1)
    assert (report.deleted_staged, report.promoted, report.deleted_orphans) == (len(staged), 0, 0)
    assert stored(media) == (set(), set())

    # The retry applies it whole.
    InboxMessage.objects.filter(pk=message_id).update(next_attempt_at=timezone.now())
    assert inbox.apply_pending() == 1
    rows = set(CaseMaterial.objects.values_list("file", flat=True))
    assert len(rows) == 2 and stored(media) == (rows, set())


def test_files_are_at_their_names_once_the_transfer_commits_and_the_sweep_leaves_them(media, item):
    receive(item, "34010020261121000002X")
    assert inbox.apply_pending() == 1
    rows = set(CaseMaterial.objects.values_list("file", flat=True))
    assert len(rows) == 2
    assert stored(media) == (rows, set())
    for row in CaseMaterial.objects.all():
        with row.file.open("rb") as fh:
            assert fh.read() == f.PDF_BYTES
    report = files.sweep(grace_seconds=GRACE, now=time.time() + 100 * GRACE)
    assert not report.did_work
    assert stored(media) == (rows, set())


def test_a_crash_between_commit_and_move_is_finished_by_the_sweep(media, item, monkeypatch):
    monkeypatch.setattr(files, "_promote", lambda storage, name: False)  # dies right after the commit
    receive(item, "34010020261121000003X")
    assert inbox.apply_pending() == 1
    monkeypatch.undo()
    rows = set(CaseMaterial.objects.values_list("file", flat=True))
    assert stored(media) == (set(), rows)
    row = CaseMaterial.objects.first()
    with files.open_file(row.file) as fh:  # readable meanwhile
        assert fh.read() == f.PDF_BYTES
    # committed: moved at once, whatever its age (what the worker does when it starts)
    from tongban.exchange import worker

    worker.Worker()._finish_staged_files()
    assert stored(media) == (rows, set())
    assert stored(media) == (rows, set())


def test_the_sweep_removes_old_files_no_row_refers_to_and_only_those(media, item):
    receive(item, "34010020261121000004X")
    assert inbox.apply_pending() == 1
    rows = set(CaseMaterial.objects.values_list("file", flat=True))
    left = media / "cases" / ("0" * 32) / "deadbeef.pdf"  # e.g. by a submission whose process died
    left.parent.mkdir(parents=True)
    left.write_bytes(f.PDF_BYTES)
    elsewhere = media / "exports" / "report.pdf"  # not a directory the sweeper owns
    elsewhere.parent.mkdir(parents=True)
    elsewhere.write_bytes(f.PDF_BYTES)

    assert files.sweep(grace_seconds=GRACE).deleted_orphans == 0  # too young
    assert files.sweep(grace_seconds=GRACE, now=time.time() + GRACE + 1).deleted_orphans == 1
    assert not left.exists() and elsewhere.exists()
    assert stored(media) == (rows, set())


def test_staging_refuses_a_directory_the_sweeper_does_not_know(media, item):
    from django.core.files.base import ContentFile

    case = Case(number="X")
    row = CaseMaterial(case=case, name="x")
    files._registry.pop("cases/")
    try:
        with pytest.raises(ValueError), transaction.atomic():
            files.stage(row.file, ContentFile(f.PDF_BYTES))
    finally:
        federation.register_handlers()
    assert stored(media) == (set(), set())


def test_tongban_federation_sweep_files(media, item, capsys):
    from django.core.management import call_command

    receive(item, "34010020261121000005X")
    with handlers.override(
        federation.TRANSFER, lambda payload, **kw: (federation.on_transfer(payload, **kw), 1 / 0)
    ):
        inbox.apply_pending()
    staged = stored(media)[1]
    assert staged
    call_command("federation", "sweep-files", "--grace-seconds", "0")
    assert f"删除 {len(staged)} 个未提交事务留下的暂存文件" in capsys.readouterr().out
    assert stored(media) == (set(), set())


def test_a_transfer_reads_its_materials_in_one_query_or_takes_them_from_memory(
    media, item, django_assert_num_queries
):
    from django.core.files.base import ContentFile

    from tongban.exchange.models import OutboxMessage

    receive(item, "34010020261121000006X")
    assert inbox.apply_pending() == 1
    case = Case.objects.select_related("item").get(number="34010020261121000006X")
    case.handling_node = kit.HEFEI  # sent on, as a receiving node sends its cases
    # the materials, the certificates used in place of materials, the seq, the message
    with transaction.atomic(), django_assert_num_queries(4):
        federation.send_transfer(case, id_number=f.id_number(), phone="")
    first = OutboxMessage.objects.get(ordering_key=case.number, seq=1).payload["materials"]
    assert [m["material"] for m in first] == ["sqs", "zc"]
    assert {base64.b64decode(m["content_base64"]) for m in first} == {f.PDF_BYTES}

    rows = list(case.materials.select_related("material"))
    for row in rows:
        Path(row.file.path).unlink()  # not read back from disk when the uploads are at hand
    with transaction.atomic(), django_assert_num_queries(2):
        federation.send_transfer(
            case,
            id_number=f.id_number(),
            phone="",
            materials=[(row, ContentFile(f.PDF_BYTES)) for row in rows],
            certificate_uses=[],
        )
    second = OutboxMessage.objects.get(ordering_key=case.number, seq=2).payload["materials"]
    assert second == first
