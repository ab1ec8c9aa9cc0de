"""``tongban federation …``: the anchor's registry and publication, a node's keys and trust list, end
to end in a temporary directory; bad input exits with code 2 and a Chinese message."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tongban.exchange import error_codes as codes
from tongban.exchange.envelope import EnvelopeError, envelope_verify, seal
from tongban.exchange.ids import uuid7
from tongban.exchange.keys import node_public_keys, node_signer
from tongban.exchange.trust import current_trust_list, trust_list_verify
from tongban.exchange.trust_models import TrustListState

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[2]


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("federation", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue().strip()


def fails(*args: str) -> CommandError:
    with pytest.raises(CommandError) as exc:
        run(*args)
    return exc.value


@pytest.fixture
def node(settings, tmp_path, monkeypatch):
    monkeypatch.delenv("TONGBAN_ANCHOR_PASSPHRASE", raising=False)
    settings.KEY_DIR = tmp_path / "node-keys"
    settings.NODE_CODE = "340100"
    settings.NODE_NAME = "合肥市"
    settings.TRUST_ANCHOR_KEYS = []
    settings.TRUST_LIST_URL = ""
    return settings


@pytest.fixture
def anchor_dir(node, tmp_path):
    """An initialised anchor; the node configured with its public key."""
    directory = tmp_path / "anchor"
    out, _ = run("anchor-init", "--dir", str(directory), "--name", "长三角测试联盟")
    name, _, key = out.splitlines()[-1].partition("=")
    assert name == "TONGBAN_TRUST_ANCHOR_KEY"
    node.TRUST_ANCHOR_KEYS = [key]
    return directory


def node_info(*extra: str) -> dict:
    out, _ = run("node-init", "--json", *extra)
    return json.loads(out)


def add_this_node(anchor_dir: Path) -> dict:
    info = node_info()
    run(
        "member-add", "--dir", str(anchor_dir), "--code", info["code"], "--name", info["name"],
        "--endpoint", "http://127.0.0.1:8002", "--public-key", info["public_key"], "--kid", info["kid"],
    )  # fmt: skip
    return info


def publish_and_install(anchor_dir: Path, tmp_path: Path) -> Path:
    out_file = tmp_path / "published" / "trust-list.json"
    run("publish", "--dir", str(anchor_dir), "--out", str(out_file))
    run("trust-install", str(out_file))
    return out_file


def test_anchor_node_member_publish_install_end_to_end(anchor_dir, tmp_path):
    # anchor-init left a private, encrypted key, a demo passphrase file and an empty registry.
    assert stat.S_IMODE((anchor_dir / "anchor.pem").stat().st_mode) == 0o600
    assert stat.S_IMODE((anchor_dir / "passphrase").stat().st_mode) == 0o600
    assert b"ENCRYPTED" in (anchor_dir / "anchor.pem").read_bytes()
    assert json.loads((anchor_dir / "registry.json").read_text())["members"] == []

    out, _ = run("node-init")
    assert "340100" in out and "tongban federation member-add" in out
    info = add_this_node(anchor_dir)
    assert info["kid"] == node_public_keys()[0].kid

    out_file = tmp_path / "published" / "trust-list.json"
    out, _ = run("publish", "--dir", str(anchor_dir), "--out", str(out_file), "--valid-hours", "48")
    assert "第 1 版" in out
    document = json.loads(out_file.read_text())
    assert document["payload"]["version"] == 1
    assert document["payload"]["members"][0]["keys"][0]["public_key"] == info["public_key"]

    out, _ = run("trust-install", str(out_file))
    assert "已安装第 1 版" in out
    out, _ = run("trust-install", str(out_file))
    assert "未作改动" in out

    trust = current_trust_list()
    assert trust.version == 1 and trust.endpoint_of("340100") == "http://127.0.0.1:8002"

    # The node's key, as published, verifies what the node signs.
    env = seal(
        id=uuid7(),
        sender="340100",
        recipient="340100",
        type="case.status",
        payload={"n": 1},
        signer=node_signer(),
    )
    envelope_verify(env, trust=trust, me="340100")

    out, _ = run("trust-show")
    assert "第 1 版" in out and "340100 合肥市" in out and info["kid"] in out
    shown = json.loads(run("trust-show", "--json")[0])
    assert (shown["version"], shown["state"], shown["member_list"][0]["code"]) == (1, "ok", "340100")


def test_publishing_again_raises_the_version(anchor_dir, tmp_path):
    add_this_node(anchor_dir)
    publish_and_install(anchor_dir, tmp_path)
    publish_and_install(anchor_dir, tmp_path)
    assert current_trust_list().version == 2
    assert json.loads((anchor_dir / "registry.json").read_text())["version"] == 2


def test_key_rotation_through_the_anchor(anchor_dir, tmp_path):
    old = add_this_node(anchor_dir)
    publish_and_install(anchor_dir, tmp_path)

    out, _ = run("node-rotate", "--anchor-dir", str(anchor_dir))
    assert "member-rotate" in out
    new = node_public_keys()[-1]
    assert node_signer().kid == old["kid"]  # not in the trust list yet

    out, _ = run(
        "member-rotate", "--dir", str(anchor_dir), "--code", "340100",
        "--public-key", new.public_key_b64u, "--kid", new.kid, "--overlap-hours", "2",
    )  # fmt: skip
    assert old["kid"] in out
    publish_and_install(anchor_dir, tmp_path)

    member = current_trust_list().member("340100")
    old_key, new_key = member.key(old["kid"]), member.key(new.kid)
    assert old_key.not_after is not None and new_key.not_after is None
    assert 7190 <= (old_key.not_after - new_key.not_before).total_seconds() <= 7210
    assert node_signer().kid == new.kid


def test_a_removed_member_is_refused(anchor_dir, tmp_path):
    add_this_node(anchor_dir)
    publish_and_install(anchor_dir, tmp_path)
    env = seal(
        id=uuid7(), sender="340100", recipient="340100", type="case.status", payload={}, signer=node_signer()
    )

    out, _ = run("member-remove", "--dir", str(anchor_dir), "--code", "340100")
    assert "移出" in out
    publish_and_install(anchor_dir, tmp_path)
    with pytest.raises(EnvelopeError) as exc:
        envelope_verify(env, trust=current_trust_list(), me="340100")
    assert exc.value.code == codes.MEMBER_REMOVED
    out, _ = run("member-remove", "--dir", str(anchor_dir), "--code", "340100")
    assert "未作改动" in out


def test_anchor_init_is_idempotent_and_a_passphrase_may_come_from_the_environment(
    node, tmp_path, monkeypatch
):
    first, _ = run("anchor-init", "--dir", str(tmp_path / "a"))
    again, err = run("anchor-init", "--dir", str(tmp_path / "a"))
    assert first == again and "未作改动" in err
    assert (tmp_path / "a" / "public.key").read_text().strip() == first.partition("=")[2]

    monkeypatch.setenv("TONGBAN_ANCHOR_PASSPHRASE", "从环境变量来的口令")
    run("anchor-init", "--dir", str(tmp_path / "b"))
    assert not (tmp_path / "b" / "passphrase").exists()
    run("publish", "--dir", str(tmp_path / "b"), "--out", str(tmp_path / "b.json"))
    monkeypatch.setenv("TONGBAN_ANCHOR_PASSPHRASE", "另一个口令")
    error = fails("publish", "--dir", str(tmp_path / "b"), "--out", str(tmp_path / "b.json"))
    assert error.returncode == 2 and "口令" in str(error)


def test_trust_refresh_from_the_published_file_and_its_failure(anchor_dir, tmp_path, node):
    add_this_node(anchor_dir)
    published = tmp_path / "trust-list.json"
    run("publish", "--dir", str(anchor_dir), "--out", str(published))
    node.TRUST_LIST_URL = str(published)
    out, _ = run("trust-refresh")
    assert "第 1 版" in out

    node.TRUST_LIST_URL = str(tmp_path / "gone.json")
    error = fails("trust-refresh")
    assert error.returncode == 1
    assert codes.TRUST_LIST_UNREACHABLE in str(error) and "继续使用第 1 版" in str(error)
    assert current_trust_list().version == 1
    assert "最近一次获取失败" in run("trust-show")[0]


def test_trust_show_without_a_list_fails_the_check(node):
    error = fails("trust-show")
    assert error.returncode == 1 and "未安装" in str(error)


# --- Bad input -------------------------------------------------------------------------------------

KEY = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"  # RFC 8032 test 1 public key


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--code", "999999"], "行政区划代码"),
        (["--code", "3401"], "行政区划代码"),
        (["--code", "abcdef"], "行政区划代码"),
        (["--endpoint", "127.0.0.1:8002"], "http"),
        (["--endpoint", "ftp://127.0.0.1"], "http"),
        (["--public-key", "not base64!"], "base64url"),
        (["--public-key", "AAAA"], "长度"),
        (["--kid", "有 空格"], "密钥标识"),
        (["--alg", "RSA"], "不支持"),
        (["--name", "  "], "名称"),
        (["--roles", "节点"], "角色"),
    ],
)
def test_member_add_bad_input_exits_with_code_2(anchor_dir, args, says):
    base = {
        "--code": "320100",
        "--name": "南京市",
        "--endpoint": "http://127.0.0.1:8004",
        "--public-key": KEY,
        "--kid": "320100-a",
    }
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    error = fails("member-add", "--dir", str(anchor_dir), *[x for kv in base.items() for x in kv])
    assert error.returncode == 2
    assert says in str(error)


def test_member_add_refuses_a_second_entry_and_a_reused_key(anchor_dir):
    args = [
        "--name",
        "南京市",
        "--endpoint",
        "http://127.0.0.1:8004",
        "--public-key",
        KEY,
        "--kid",
        "320100-a",
    ]
    run("member-add", "--dir", str(anchor_dir), "--code", "320100", *args)
    error = fails("member-add", "--dir", str(anchor_dir), "--code", "320100", *args)
    assert error.returncode == 2 and "已是成员" in str(error)
    error = fails("member-add", "--dir", str(anchor_dir), "--code", "320200", *args)
    assert error.returncode == 2 and "320100" in str(error)


@pytest.mark.parametrize(
    "args",
    [
        ["member-rotate", "--code", "320100", "--public-key", KEY, "--kid", "k"],
        ["member-rotate", "--code", "340100", "--public-key", KEY, "--kid", "k", "--overlap-hours", "-1"],
        ["member-remove", "--code", "320100"],
        ["publish", "--out", "x.json", "--valid-hours", "0"],
    ],
    ids=["rotate-unknown", "rotate-negative-overlap", "remove-unknown", "publish-zero-hours"],
)
def test_anchor_commands_bad_input_exits_with_code_2(anchor_dir, args):
    error = fails(args[0], "--dir", str(anchor_dir), *args[1:])
    assert error.returncode == 2


def test_a_directory_that_is_not_an_anchor_is_bad_input(node, tmp_path):
    error = fails("member-remove", "--dir", str(tmp_path), "--code", "340100")
    assert error.returncode == 2 and "anchor-init" in str(error)


def test_a_missing_argument_is_bad_input(anchor_dir):
    error = fails("member-add", "--dir", str(anchor_dir), "--code", "340100")
    assert error.returncode == 2 and "参数错误" in str(error)


def test_trust_install_refuses_a_changed_file_a_missing_file_and_an_older_version(anchor_dir, tmp_path):
    add_this_node(anchor_dir)
    first = tmp_path / "v1.json"
    run("publish", "--dir", str(anchor_dir), "--out", str(first))
    run("publish", "--dir", str(anchor_dir), "--out", str(tmp_path / "v2.json"))

    forged = tmp_path / "forged.json"
    forged.write_text(first.read_text().replace("http://127.0.0.1:8002", "http://127.0.0.1:8666"))
    error = fails("trust-install", str(forged))
    assert error.returncode == 2 and codes.TRUST_LIST_BAD_SIGNATURE in str(error)

    error = fails("trust-install", str(tmp_path / "missing.json"))
    assert error.returncode == 2 and "无法读取" in str(error)

    run("trust-install", str(tmp_path / "v2.json"))
    error = fails("trust-install", str(first))
    assert error.returncode == 2 and codes.TRUST_LIST_ROLLBACK in str(error)
    assert TrustListState.objects.get().version == 2


def test_trust_install_without_a_configured_anchor_key_is_bad_input(anchor_dir, tmp_path, node):
    add_this_node(anchor_dir)
    run("publish", "--dir", str(anchor_dir), "--out", str(tmp_path / "v1.json"))
    node.TRUST_ANCHOR_KEYS = []
    error = fails("trust-install", str(tmp_path / "v1.json"))
    assert error.returncode == 2 and "TONGBAN_TRUST_ANCHOR_KEY" in str(error)


def test_the_published_file_verifies_with_the_printed_anchor_key(anchor_dir, tmp_path, node):
    from tongban.exchange.signing import b64u_decode

    add_this_node(anchor_dir)
    out_file = tmp_path / "t.json"
    run("publish", "--dir", str(anchor_dir), "--out", str(out_file))
    trust = trust_list_verify(
        json.loads(out_file.read_text()), anchor_keys=[b64u_decode(node.TRUST_ANCHOR_KEYS[0])]
    )
    assert list(trust.members) == ["340100"]


def test_from_the_real_command_line_bad_input_exits_with_code_2(tmp_path):
    """The exit code an operator's script sees (argparse errors and our own), not only call_command's."""
    env = {
        **os.environ,
        "TONGBAN_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "tongban.config.settings",
    }
    anchor = tmp_path / "anchor"
    ok = subprocess.run(
        [sys.executable, "manage.py", "federation", "anchor-init", "--dir", str(anchor)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("TONGBAN_TRUST_ANCHOR_KEY=")
    for args in (
        ["member-add", "--dir", str(anchor), "--code", "999999", "--name", "x", "--endpoint", "http://127.0.0.1:1",
         "--public-key", KEY, "--kid", "k"],
        ["member-add", "--dir", str(anchor)],
    ):  # fmt: skip
        bad = subprocess.run(
            [sys.executable, "manage.py", "federation", *args],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert bad.returncode == 2, bad.stderr
        assert bad.stderr.strip()


def test_a_public_key_starting_with_a_dash_is_a_value_not_an_option(anchor_dir):
    key = "-" + KEY[1:-1] + "o"  # another valid 32-byte key, starting with "-"
    run("member-add", "--dir", str(anchor_dir), "--code", "320100", "--name", "南京市",
        "--endpoint", "http://127.0.0.1:8004", "--public-key", key, "--kid", "320100-a")  # fmt: skip
    registry = json.loads((anchor_dir / "registry.json").read_text())
    assert registry["members"][0]["keys"][0]["public_key"] == key


def test_anchor_init_refuses_to_start_over_when_only_the_key_is_gone(anchor_dir):
    (anchor_dir / "anchor.pem").unlink()
    error = fails("anchor-init", "--dir", str(anchor_dir))
    assert error.returncode == 2 and "备份" in str(error)


# --- The subcommand table is extensible by one line --------------------------------------------------


def _extra_arguments(parser):
    parser.add_argument("--parked", action="store_true")


def _extra_handle(command, options):
    command.stdout.write(f"parked={options['parked']}")


def test_a_subcommand_added_to_the_table_by_reference_is_available(node, monkeypatch):
    from tongban.exchange.management.commands import federation

    monkeypatch.setitem(
        federation.SUBCOMMANDS,
        "outbox",
        federation.Subcommand("发件箱", f"{__name__}:_extra_arguments", f"{__name__}:_extra_handle"),
    )
    assert run("outbox", "--parked") == ("parked=True", "")
