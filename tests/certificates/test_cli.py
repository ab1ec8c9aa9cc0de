"""``tongban cert verify`` as an operator or a script runs it: Chinese verdicts, stable codes in
``--json``, exit codes 0 valid / 1 invalid / 2 unusable input, and offline checks from files only."""

from __future__ import annotations

import io
import json
import sys

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command

from tests.certificates import kit
from tests.exchange import kit as xkit
from tongban import cli
from tongban.certificates import error_codes as codes
from tongban.certificates.models import StatusListRecord
from tongban.certificates.pdf import certificate_pdf
from tongban.certificates.reference import reference_types
from tongban.certificates.selectors import invalidate_status_cache
from tongban.certificates.services import certificate_status_change, status_list_publish
from tongban.certificates.status_list import status_list_parse
from tongban.exchange import trust as trust_module
from tongban.exchange.signing import Ed25519Signer, b64u
from tongban.exchange.trust_models import TrustListState

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(capsys):
    """Runs ``tongban cert …`` in process. ``call_command`` rather than ``tongban.cli.main``: the
    latter's Django entry point closes every database connection on the way out, the test's included."""

    def run(*args) -> tuple[int, str, str]:
        invalidate_status_cache()
        try:
            call_command("cert", *map(str, args))
            code = 0
        except SystemExit as exc:
            code = exc.code
        except CommandError as exc:  # what run_from_argv prints and exits with
            print(exc, file=sys.stderr)
            code = exc.returncode
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_cert_is_a_tongban_subcommand():
    assert "cert" in cli.PASSTHROUGH and "tongban cert verify" in cli.__doc__


def write(tmp_path, name: str, content: str | bytes):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def test_valid_credential_file_exits_0_with_the_reason_in_chinese(node, run, tmp_path):
    cert = kit.issue(node, holder_name="赵六")
    code, out, _ = run("verify", write(tmp_path, "c.sd-jwt", cert.credential))
    assert code == 0
    assert out.startswith("有效：") and f"证照标识：{cert.identifier}" in out and "赵六" in out


def test_valid_pdf_exits_0_and_a_changed_pdf_exits_1(node, run, tmp_path):
    data = certificate_pdf(kit.issue(node))
    assert run("verify", write(tmp_path, "c.pdf", data))[0] == 0
    changed = bytearray(data)
    changed[len(data) // 3] ^= 0x04
    code, out, _ = run("verify", write(tmp_path, "changed.pdf", bytes(changed)))
    assert code == 1 and out.startswith(f"无效（{codes.PDF_SEAL_INVALID}）：")


def test_a_pdf_without_a_credential_exits_2(node, run, tmp_path):
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    page = canvas.Canvas(buf, invariant=1)
    page.drawString(72, 720, "A scanned form")
    page.save()
    code, out, _ = run("verify", write(tmp_path, "plain.pdf", buf.getvalue()))
    assert code == 2 and codes.PDF_NO_CREDENTIAL in out and out.startswith("无法核验")


def test_revoked_certificate_exits_1_with_cert_revoked(node, run, tmp_path):
    cert = kit.issue(node)
    certificate_status_change(identifier=cert.identifier, action="revoke", reason="依法吊销", actor=None)
    code, out, _ = run("verify", write(tmp_path, "c.sd-jwt", cert.credential))
    assert code == 1 and out.startswith(f"无效（{codes.REVOKED}）：证照已被颁证单位撤销")
    assert cert.identifier in out


def test_malformed_or_truncated_qr_text_exits_2(node, run, tmp_path):
    text = kit.issue(node).credential
    cut = text.rindex("~", 0, len(text) - 1) - 5  # inside a disclosure, so no longer ending in "~"
    for bad in (text[:cut], text[:60], "https://example.com/not-a-credential", "\u4e2d\u6587"):
        code, out, _ = run("verify", write(tmp_path, "qr.txt", bad))
        assert code == 2, (bad, out)
        assert out.startswith(f"无法核验（{codes.MALFORMED}）")
    # The QR text as a scanner saves it, wrapped and with a newline, is fine.
    wrapped = "\n".join(text[i : i + 64] for i in range(0, len(text), 64)) + "\n"
    assert run("verify", write(tmp_path, "qr.txt", wrapped))[0] == 0


def test_missing_file_exits_2(node, run, tmp_path):
    code, _, err = run("verify", tmp_path / "nope.pdf")
    assert code == 2 and "无法读取文件" in err


def test_stdin(node, run, monkeypatch):
    cert = kit.issue(node)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(cert.credential.encode())))
    assert run("verify", "-")[0] == 0


def test_json_output_has_exactly_the_documented_keys(node, run, tmp_path):
    cert = kit.issue(node)
    code, out, _ = run("verify", "--json", write(tmp_path, "c.sd-jwt", cert.credential))
    result = json.loads(out)
    assert code == 0
    assert result == {
        "valid": True,
        "reason": result["reason"],
        "identifier": cert.identifier,
        "code": "VALID",
    }
    code, out, _ = run("verify", "--json", write(tmp_path, "bad.txt", "garbage"))
    assert code == 2
    assert json.loads(out) == {
        "valid": False,
        "reason": json.loads(out)["reason"],
        "identifier": None,
        "code": codes.MALFORMED,
    }


def _offline_files(tmp_path, settings):
    """The trust list document and this node's status list token, written out; then the node forgets
    both (no installed trust list, no status lists), so only the files can vouch."""
    document = trust_module.installed_trust_list().document
    token = status_list_publish().token
    trust_path = write(tmp_path, "trust-list.json", json.dumps(document, ensure_ascii=False))
    status_path = write(tmp_path, "status-340100.jwt", token + "\n")
    TrustListState.objects.all().delete()
    StatusListRecord.objects.all().delete()
    trust_module.invalidate_cache()
    return trust_path, status_path


def test_offline_with_files_only(node, run, tmp_path, settings):
    cert = kit.issue(node)
    pdf = write(tmp_path, "c.pdf", certificate_pdf(cert))
    credential = write(tmp_path, "c.sd-jwt", cert.credential)
    trust_path, status_path = _offline_files(tmp_path, settings)
    anchor = b64u(xkit.ANCHOR.public_key)
    settings.TRUST_ANCHOR_KEYS = []  # the anchor key comes from the command line too

    # Without the files, this node cannot vouch for anything now.
    code, _, err = run("verify", credential)
    assert code == 2 and "信任列表" in err

    # "--anchor-key=…": a base64url key may begin with "-", which argparse would take for an option.
    offline = ("--trust-list", trust_path, f"--anchor-key={anchor}", "--status-list", status_path)
    for path in (credential, pdf):
        code, out, _ = run("verify", *offline, path)
        assert code == 0, out
    # A trust list file is only believed with the anchor's key.
    other = b64u(Ed25519Signer(Ed25519PrivateKey.generate(), "x").public_key)
    code, _, err = run("verify", "--trust-list", trust_path, f"--anchor-key={other}", credential)
    assert code == 2 and "TRUST_LIST_BAD_SIGNATURE" in err
    # Without a status list the status cannot be known.
    code, out, _ = run("verify", "--trust-list", trust_path, f"--anchor-key={anchor}", "--json", credential)
    assert code == 1 and json.loads(out)["code"] == codes.STATUS_UNKNOWN


def test_offline_revocation_comes_from_the_status_list_file(node, run, tmp_path, settings):
    cert = kit.issue(node)
    certificate_status_change(identifier=cert.identifier, action="revoke", reason="依法吊销", actor=None)
    credential = write(tmp_path, "c.sd-jwt", cert.credential)
    trust_path, status_path = _offline_files(tmp_path, settings)
    code, out, _ = run("verify", "--trust-list", trust_path, "--status-list", status_path, credential)
    assert code == 1 and codes.REVOKED in out
    # A status list someone changed is refused, not believed.
    token = status_path.read_text().strip()
    forged = write(tmp_path, "forged.jwt", token[:-4] + ("AAAA" if token[-4:] != "AAAA" else "BBBB"))
    code, _, err = run("verify", "--trust-list", trust_path, "--status-list", forged, credential)
    assert code == 2 and "状态列表文件" in err


def test_status_list_prints_the_nodes_signed_token(node, run):
    kit.issue(node)
    code, out, _ = run("status-list")
    assert code == 0
    parsed = status_list_parse(out.strip())
    assert (
        parsed.issuer == kit.HEFEI
        and parsed.token == StatusListRecord.objects.get(issuer_node=kit.HEFEI).token
    )
    code, fresh, _ = run("status-list", "--fresh")
    assert code == 0 and status_list_parse(fresh.strip()).issuer == kit.HEFEI


def test_types_load(node, run):
    code, out, _ = run("types-load")
    assert code == 0 and f"已载入 {len(reference_types())} 个电子证照类型" in out
