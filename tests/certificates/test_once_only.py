"""Once-only (免提交): an applicant's certificate stands in for a material, with preview and consent;
a case decided 准予 issues the item's certificate into the applicant's certificates."""

from __future__ import annotations

import pytest

from tests import factories as f
from tests.certificates import kit
from tongban.cases import services as case_services
from tongban.cases.models import Case, CaseEvent
from tongban.cases.services import Upload
from tongban.catalogue.models import Material
from tongban.certificates import error_codes as codes
from tongban.certificates.models import Certificate, CertificateUse
from tongban.certificates.once_only import CertificateChoice
from tongban.certificates.selectors import certificates_of, invalidate_status_cache
from tongban.certificates.services import certificate_status_change
from tongban.core.errors import InvalidInput

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings, tmp_path):
    invalidate_status_cache()
    _, authority = kit.node(settings, tmp_path)
    item = f.item(authority, materials=(("sqs", "申请书", True),))
    Material.objects.create(
        item=item, code="ssc", name="社会保障卡", required=True, certificate_type="sbk", sort=9
    )
    citizen = f.citizen()
    card = kit.issue(authority, type_key="sbk", holder_id=citizen.id_number, holder_name=citizen.real_name)
    yield {"authority": authority, "item": item, "citizen": citizen, "card": card}
    invalidate_status_cache()


def apply(world, *choices, files=None):
    return case_services.case_submit(
        applicant=world["citizen"],
        item=world["item"],
        form_data=f.VALID_FORM,
        files=files if files is not None else [Upload("sqs", f.pdf())],
        certificates=list(choices),
    )


def test_a_certificate_replaces_the_upload_and_the_case_records_which_and_the_verdict(world):
    card = world["card"]
    case = apply(world, CertificateChoice("ssc", card.identifier, consent=True))
    use = CertificateUse.objects.get(case=case)
    assert (use.material_code, use.identifier, use.version) == ("ssc", card.identifier, 1)
    assert use.valid and use.verdict_code == "VALID"
    assert case.materials.filter(material__code="ssc").count() == 0  # 免提交: no file
    # Only what the type's default disclosure names was kept, not the whole credential.
    assert "holder_id" in use.disclosed and "card_kind" not in use.disclosed
    assert len(use.presentation.split("~")) < len(card.credential.split("~"))


def test_without_the_certificate_or_an_upload_the_material_is_missing(world):
    with pytest.raises(InvalidInput) as exc:
        apply(world)
    assert exc.value.code == "MATERIAL_MISSING"


def test_consent_is_required_and_nothing_is_written_without_it(world):
    with pytest.raises(InvalidInput) as exc:
        apply(world, CertificateChoice("ssc", world["card"].identifier, consent=False))
    assert exc.value.errors[0].code == codes.CONSENT_REQUIRED
    assert Case.objects.count() == 0 and CertificateUse.objects.count() == 0


def test_someone_elses_certificate_cannot_be_used(world):
    other = kit.issue(world["authority"], type_key="sbk")
    with pytest.raises(InvalidInput) as exc:
        apply(world, CertificateChoice("ssc", other.identifier, consent=True))
    assert exc.value.errors[0].code == codes.NOT_HOLDER


def test_a_certificate_of_another_type_is_refused(world):
    licence = kit.issue(world["authority"], type_key="jszz", holder_id=world["citizen"].id_number)
    with pytest.raises(InvalidInput) as exc:
        apply(world, CertificateChoice("ssc", licence.identifier, consent=True))
    assert exc.value.errors[0].code == codes.WRONG_TYPE


def test_a_revoked_certificate_is_refused_with_its_reason(world):
    certificate_status_change(identifier=world["card"].identifier, action="revoke", reason="注销", actor=None)
    invalidate_status_cache()
    with pytest.raises(InvalidInput) as exc:
        apply(world, CertificateChoice("ssc", world["card"].identifier, consent=True))
    assert exc.value.errors[0].code == codes.REVOKED
    assert "撤销" in exc.value.errors[0].message


def test_a_case_decided_approve_issues_the_items_certificate_to_the_applicant(world):
    item = world["item"]
    item.issues_certificate = "wfzjl"
    item.form_schema = {
        "type": "object",
        "properties": {"purpose": {"type": "string"}},
        "required": ["purpose"],
        "additionalProperties": False,
    }
    item.save()
    reviewer = f.staff(world["authority"])
    case = case_services.case_submit(
        applicant=world["citizen"],
        item=item,
        form_data={"purpose": "出国留学"},
        files=[Upload("sqs", f.pdf())],
        certificates=[CertificateChoice("ssc", world["card"].identifier, consent=True)],
    )
    case_services.case_accept(actor=reviewer, number=case.number)
    case_services.case_decide(actor=reviewer, number=case.number, approve=True, reason="符合条件")
    cert = Certificate.objects.get(source_case=case)
    assert cert.type.key == "wfzjl"
    assert cert.data == {"purpose": "出国留学", "statement": cert.data["statement"]}
    assert cert.holder_name == world["citizen"].real_name
    event = CaseEvent.objects.get(case=case, action="approve")
    assert event.data["certificate"] == cert.identifier
    assert cert in list(certificates_of(world["citizen"]))


def test_a_decision_that_cannot_issue_rolls_back_whole(world, settings):
    item = world["item"]
    item.issues_certificate = "wfzjl"  # needs 证明用途, which this item's form does not have
    item.save()
    reviewer = f.staff(world["authority"])
    case = apply(world, CertificateChoice("ssc", world["card"].identifier, consent=True))
    case_services.case_accept(actor=reviewer, number=case.number)
    with pytest.raises(InvalidInput):
        case_services.case_decide(actor=reviewer, number=case.number, approve=True, reason="符合条件")
    case.refresh_from_db()
    assert case.status == "accepted"
    assert not Certificate.objects.filter(source_case=case).exists()


def test_a_field_mapped_from_the_items_city_takes_the_city_name():
    """社会保障卡's 发卡地 comes from ``item.city_name``: the division's name, not its code."""
    from types import SimpleNamespace

    from tongban.certificates.services import _source_value

    case = SimpleNamespace(item=SimpleNamespace(city_code="340100", name="社会保障卡申领"))
    assert _source_value("item.city_name", case) == "合肥市"
    assert _source_value("item.name", case) == "社会保障卡申领"


def test_a_certificate_handed_with_the_choice_is_checked_like_one_looked_up(world):
    """A caller that has just read the row passes it along (not read again); it is checked the same:
    whose it is, and whether it is valid now (the status list, not the row in hand)."""
    other = kit.issue(world["authority"], type_key="sbk")
    with pytest.raises(InvalidInput) as exc:
        apply(world, CertificateChoice("ssc", other.identifier, consent=True, certificate=other))
    assert exc.value.errors[0].code == codes.NOT_HOLDER

    card = world["card"]
    certificate_status_change(identifier=card.identifier, action="revoke", reason="注销", actor=None)
    invalidate_status_cache()
    with pytest.raises(InvalidInput) as exc:
        apply(world, CertificateChoice("ssc", card.identifier, consent=True, certificate=card))
    assert exc.value.errors[0].code == codes.REVOKED


def test_a_row_that_is_not_the_chosen_certificate_is_not_used_for_it(world):
    other = kit.issue(world["authority"], type_key="sbk")
    card = world["card"]
    case = apply(world, CertificateChoice("ssc", card.identifier, consent=True, certificate=other))
    assert CertificateUse.objects.get(case=case).identifier == card.identifier


def test_the_certificate_offered_for_a_type_is_the_pickers_first_valid_one(world):
    from tongban.certificates.once_only import certificates_offered
    from tongban.certificates.presenters import picker_options

    citizen, card = world["citizen"], world["card"]
    second = kit.issue(world["authority"], type_key="sbk", holder_id=citizen.id_number, holder_name="张三")
    material = Material.objects.get(code="ssc")
    offered = certificates_offered(citizen, {"sbk", "sfz"})
    assert offered["sbk"].identifier == picker_options(citizen, [material])["ssc"][0].identifier
    assert "sfz" not in offered  # none held

    certificate_status_change(identifier=card.identifier, action="revoke", reason="注销", actor=None)
    invalidate_status_cache()
    assert certificates_offered(citizen, {"sbk"})["sbk"].identifier == second.identifier
    assert picker_options(citizen, [material])["ssc"][0].identifier == second.identifier


def test_the_certificates_looked_at_for_an_application_are_the_ones_the_user_holds(world):
    """The statement written once for applications finds what ``certificates_of`` finds: held
    certificates and those from cases the user applied for, of the types asked, nobody else's."""
    from tongban.certificates.once_only import _held_of_types
    from tongban.certificates.selectors import certificates_of
    from tongban.certificates.services import certificate_type_kept
    from tongban.core import pii

    citizen, authority = world["citizen"], world["authority"]
    kit.issue(authority, type_key="jszz", holder_id=citizen.id_number, holder_name=citizen.real_name)
    kit.issue(  # held by someone else, from a case the citizen applied for
        authority,
        type_key="sbk",
        holder_name="李四",
        applicant_id_hash=pii.lookup_hash(citizen.id_number, purpose="id_number"),
    )
    kit.issue(authority, type_key="sbk")  # nobody the citizen knows
    for keys in ({"sbk"}, {"sbk", "jszz"}, {"jszz", "xwzs"}):
        types = {t.pk: t for t in map(certificate_type_kept, keys)}
        found = _held_of_types(citizen, types)
        expected = certificates_of(citizen).filter(type__key__in=keys)
        assert sorted(c.identifier for c in found) == sorted(c.identifier for c in expected)
        assert all(c.type.key in keys and c.type_id == c.type.pk for c in found)
    assert len(_held_of_types(citizen, {t.pk: t for t in map(certificate_type_kept, ["sbk"])})) == 2
    assert certificate_type_kept("no-such-type") is None
