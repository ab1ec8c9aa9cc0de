"""一件事: definitions checked when saved; one submission starts the first steps; each step's end
feeds the next, including the new 统一社会信用代码 and the bank account; the bank is an outside party
that fails now and then; rejection, pause, withdrawal and a restart mid-bundle."""

from __future__ import annotations

import copy

import pytest

from tests.bundles import kit
from tongban.bundles import error_codes as codes
from tongban.bundles.definitions import definition_save
from tongban.bundles.models import Bundle, BundleEvent, BundleStep
from tongban.bundles.services import (
    bundle_advance,
    bundle_submit,
    bundle_withdraw,
    bundles_advance_due,
    external_steps_run,
)
from tongban.cases import services as case_services
from tongban.cases.models import Case
from tongban.certificates.models import CertificateUse
from tongban.core.errors import InvalidInput

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings, tmp_path):
    w = kit.world(settings, tmp_path)
    w["definition"] = definition_save(kit.definition())
    return w


def submit(world, **kw):
    return bundle_submit(
        applicant=world["citizen"],
        definition_key="qykb-test",
        form_data=kw.pop("form", kit.FORM_DATA),
        consent=kw.pop("consent", True),
        **kw,
    )


def approve(world, case):
    case_services.case_accept(actor=world["reviewer"], number=case.number)
    case_services.case_decide(actor=world["reviewer"], number=case.number, approve=True, reason="符合条件")


def steps(bundle):
    return {s.key: s for s in BundleStep.objects.filter(bundle=bundle).select_related("case")}


# --- Definitions ---------------------------------------------------------------------------------------


def broken(world, change):
    doc = kit.definition()
    change(doc)
    with pytest.raises(InvalidInput) as exc:
        definition_save(doc)
    assert exc.value.code == codes.DEFINITION_INVALID
    return " ".join(e.message for e in exc.value.errors)


def test_a_cycle_is_refused_and_named(world):
    def cycle(doc):
        doc["steps"][0]["after"] = ["tax"]

    assert "循环依赖" in broken(world, cycle)


def test_dangling_steps_items_and_mappings_are_refused(world):
    def dangling(doc):
        doc["steps"][1]["after"] = ["nowhere"]

    assert "nowhere" in broken(world, dangling)

    def missing_item(doc):
        doc["steps"][2 - 2]["item"] = "999999999999"

    assert "不存在或未发布" in broken(world, missing_item)

    def no_such_field(doc):
        doc["steps"][1]["inputs"]["colour"] = "form.enterprise_name"

    assert "没有字段“colour”" in broken(world, no_such_field)

    def no_such_form_field(doc):
        doc["steps"][1]["inputs"]["seal_style"] = "form.seal_colour"

    assert "申请表没有字段“seal_colour”" in broken(world, no_such_form_field)

    def not_before(doc):
        doc["steps"][1]["inputs"]["uscc"] = "step.tax.case_number"

    assert "不是环节“seal”之前的环节" in broken(world, not_before)

    def not_produced(doc):
        doc["steps"][3]["inputs"]["bank_account"] = "step.bank.iban"

    assert "不产生“iban”" in broken(world, not_produced)

    def unfed(doc):
        del doc["steps"][3]["inputs"]["bank_account"]

    assert "必填字段“bank_account”没有来源" in broken(world, unfed)


def test_saving_an_unchanged_definition_keeps_its_version(world):
    again = definition_save(kit.definition())
    assert again.pk == world["definition"].pk
    changed = definition_save(kit.definition(target_workdays=5))
    assert changed.version == 2


# --- Running -----------------------------------------------------------------------------------------------


def test_submission_starts_only_the_first_step(world):
    bundle = submit(world)
    s = steps(bundle)
    assert s["registration"].status == "in_progress" and s["registration"].case is not None
    assert {s[k].status for k in ("seal", "bank", "tax")} == {"waiting"}
    assert s["registration"].case.form_data["enterprise_name"] == kit.FORM_DATA["enterprise_name"]


def test_a_form_missing_what_a_later_step_needs_is_refused_whole(world):
    form = {k: v for k, v in kit.FORM_DATA.items() if k != "seal_style"}
    with pytest.raises(InvalidInput) as exc:
        submit(world, form=form)
    assert exc.value.code == codes.FORM_MISSING_FIELD
    assert "公章刻制" in exc.value.message
    assert Bundle.objects.count() == 0 and Case.objects.count() == 0


def test_the_declaration_must_be_signed(world):
    with pytest.raises(InvalidInput) as exc:
        submit(world, consent=False)
    assert exc.value.code == codes.CONSENT_REQUIRED
    assert Bundle.objects.count() == 0


def test_enterprise_opening_runs_to_the_end_with_data_flowing_between_steps(world):
    bundle = submit(world)
    approve(world, steps(bundle)["registration"].case)
    bundle_advance(bundle.pk)
    s = steps(bundle)
    uscc_code = s["registration"].outputs["certificate_number"]
    assert uscc_code.startswith("91340100") and s["registration"].status == "completed"
    # Seal and bank start together; the seal uses the licence just issued instead of an upload.
    assert s["seal"].status == "in_progress" and s["seal"].case.form_data["uscc"] == uscc_code
    use = CertificateUse.objects.get(case=s["seal"].case)
    assert use.identifier == s["registration"].outputs["certificate"] and use.valid
    assert s["bank"].status == "queued" and s["tax"].status == "waiting"

    run = external_steps_run()
    assert run.completed == 1
    approve(world, s["seal"].case)
    bundle_advance(bundle.pk)
    s = steps(bundle)
    account = s["bank"].outputs["bank_account"]
    tax_case = s["tax"].case
    assert tax_case.form_data == {
        "uscc": uscc_code,
        "bank_name": kit.FORM_DATA["bank_name"],
        "bank_account": account,
        "taxpayer_kind": "小规模纳税人",
    }
    approve(world, tax_case)
    bundle = bundle_advance(bundle.pk)
    assert bundle.status == "completed" and bundle.completed_at is not None
    actions = list(BundleEvent.objects.filter(bundle=bundle).values_list("action", flat=True))
    assert actions[0] == "submit" and actions[-1] == "done"


def test_the_bank_failing_is_retried_and_shown_then_gives_up(world, settings):
    bundle = submit(world)
    approve(world, steps(bundle)["registration"].case)
    bundle_advance(bundle.pk)
    settings.SIMBANK_FAIL_RATE = 1.0
    settings.BUNDLE_EXTERNAL_ATTEMPTS = 3
    assert external_steps_run().retrying == 1
    bank = steps(bundle)["bank"]
    assert bank.status == "retrying" and "繁忙" in bank.last_error and bank.attempts == 1
    assert external_steps_run().called == 0  # not due yet: backoff
    for _ in range(2):
        BundleStep.objects.filter(pk=bank.pk).update(next_attempt_at=None)
        external_steps_run()
    bank = steps(bundle)["bank"]
    assert bank.status == "failed" and bank.attempts == 3
    bundle = bundle_advance(bundle.pk)
    assert steps(bundle)["tax"].status == "blocked"
    assert BundleEvent.objects.filter(bundle=bundle, action="retry").count() == 2


def test_a_refused_step_blocks_what_depends_on_it_and_the_rest_continues(world):
    bundle = submit(world)
    approve(world, steps(bundle)["registration"].case)
    bundle_advance(bundle.pk)
    seal_case = steps(bundle)["seal"].case
    case_services.case_reject_intake(actor=world["reviewer"], number=seal_case.number, reason="印模不清晰")
    bundle = bundle_advance(bundle.pk)
    s = steps(bundle)
    assert s["seal"].status == "rejected" and "印模不清晰" in s["seal"].last_error
    assert s["tax"].status == "blocked"
    assert s["bank"].status == "queued"  # continues
    external_steps_run()
    bundle = bundle_advance(bundle.pk)
    assert bundle.status == "failed"


def test_a_pausing_definition_stops_everything_on_a_refusal(world):
    definition_save(kit.definition(on_failure="pause"))
    bundle = submit(world)
    case_services.case_reject_intake(
        actor=world["reviewer"], number=steps(bundle)["registration"].case.number, reason="名称不合规"
    )
    bundle = bundle_advance(bundle.pk)
    assert bundle.status == "paused"


def test_withdrawing_cancels_what_has_not_finished(world):
    bundle = submit(world)
    approve(world, steps(bundle)["registration"].case)
    bundle_advance(bundle.pk)
    bundle = bundle_withdraw(actor=world["citizen"], number=bundle.number, reason="不开了")
    s = steps(bundle)
    assert bundle.status == "withdrawn"
    assert s["registration"].status == "completed"
    assert s["seal"].status == "cancelled" and s["seal"].case.status == "withdrawn"
    assert s["bank"].status == "cancelled" and s["tax"].status == "cancelled"
    assert external_steps_run().called == 0


def test_after_a_restart_the_worker_finds_and_resumes_running_bundles(world):
    bundle = submit(world)
    approve(world, steps(bundle)["registration"].case)
    # No one told the bundle (a node restarted before it looked): the worker's sweep finds it.
    assert bundles_advance_due(everything=True) == 1
    assert steps(bundle)["seal"].status == "in_progress"


def test_a_step_producing_an_invalid_uscc_stops_there_with_a_clear_error(world):
    from tongban.certificates.models import Certificate

    bundle = submit(world)
    approve(world, steps(bundle)["registration"].case)
    Certificate.objects.filter(source_case=steps(bundle)["registration"].case).update(
        number="91340100MA2T0A015X"
    )
    bundle_advance(bundle.pk)
    s = steps(bundle)
    assert s["registration"].status == "failed" and "统一社会信用代码" in s["registration"].last_error
    assert s["seal"].status == "blocked"


def test_repeated_submission_with_the_same_token_gives_one_bundle(world):
    first = submit(world, client_token="abc")
    again = submit(world, client_token="abc")
    assert first.pk == again.pk and Bundle.objects.count() == 1


def test_a_token_is_unique_per_applicant_in_the_database(world):
    """Two submissions with one token at the same moment: the database keeps one (the second is
    then handed the first); another applicant's token of the same text is theirs."""
    from django.db import IntegrityError, transaction

    from tests import factories as f

    first = submit(world, client_token="abc")
    with pytest.raises(IntegrityError), transaction.atomic():
        Bundle.objects.create(
            number="YJS-dup",
            definition=first.definition,
            applicant=world["citizen"],
            form_data={},
            consented_at=first.consented_at,
            submitted_at=first.submitted_at,
            client_token="abc",
        )
    other = bundle_submit(
        applicant=f.citizen(name="李四"),
        definition_key="qykb-test",
        form_data=kit.FORM_DATA,
        consent=True,
        client_token="abc",
    )
    assert other.pk != first.pk and Bundle.objects.count() == 2


def test_definitions_are_kept_per_version(world):
    bundle = submit(world)
    definition_save(kit.definition(name="企业开办（新版）"))
    assert Bundle.objects.get(pk=bundle.pk).definition.version == 1
    assert copy.deepcopy(kit.definition())["name"] == "企业开办"


def test_a_new_version_is_used_by_the_next_submission_at_once(world):
    """Versions are kept per process (a saved version never changes), but which one is current is
    asked at each submission."""
    first = submit(world)
    definition_save(kit.definition(name="企业开办（新版）"))
    second = submit(world)
    assert (first.definition.version, second.definition.version) == (1, 2)
    assert Bundle.objects.get(pk=second.pk).definition.name == "企业开办（新版）"


def test_a_withdrawn_step_item_refuses_the_next_submission_at_once(world):
    """Step items are kept per process only while the catalogue does not change: a withdrawal, even
    one written behind the services' back, stops the very next submission."""
    from tongban.catalogue.constants import ItemStatus
    from tongban.catalogue.models import ServiceItem

    first = submit(world)
    item = steps(first)["registration"].case.item
    ServiceItem.objects.filter(pk=item.pk).update(status=ItemStatus.WITHDRAWN)
    with pytest.raises(InvalidInput) as exc:
        submit(world)
    assert exc.value.code == codes.STEP_REFUSED and "不再办理" in exc.value.message
    assert Bundle.objects.count() == 1


def test_a_submission_checks_the_catalogue_once_for_all_its_steps(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    submit(world)  # the steps' items are read once and kept
    with CaptureQueriesContext(connection) as ctx:
        submit(world)
    sql = [q["sql"] for q in ctx.captured_queries]
    assert len([s for s in sql if "catalogue_generation" in s]) == 1
    assert not [s for s in sql if '"catalogue_serviceitem"' in s and s.lstrip().startswith("SELECT")]


def test_advancing_locks_the_bundle_not_its_definition_or_applicant(world):
    """Two workers advancing two bundles of the same definition (or of the same applicant) do not
    wait for each other."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    bundle = submit(world)
    with CaptureQueriesContext(connection) as ctx:
        bundle_advance(bundle.pk)
    locking = [q["sql"] for q in ctx.captured_queries if " FOR UPDATE" in q["sql"]]
    if not connection.features.has_select_for_update:
        assert locking == []
        return
    assert locking and all(" FOR UPDATE OF " in sql for sql in locking)
    for sql in locking:
        locked = sql.split(" FOR UPDATE OF ")[1]
        assert "bundledefinition" not in locked and "accounts_user" not in locked


def test_the_worker_is_woken_only_when_a_step_waits_for_an_outside_party(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    from tongban.exchange import worker

    def poke():
        pass

    monkeypatch.setattr(worker, "poke", poke)
    with django_capture_on_commit_callbacks() as after_commit:
        bundle = submit(world)  # the registration is a case: nothing for the worker
    assert poke not in after_commit
    approve(world, steps(bundle)["registration"].case)
    with django_capture_on_commit_callbacks() as after_commit:
        bundle_advance(bundle.pk)  # the bank is queued: the worker calls it
    assert steps(bundle)["bank"].status == "queued" and poke in after_commit
