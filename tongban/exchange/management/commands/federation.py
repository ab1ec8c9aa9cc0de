"""``tongban federation …``: the trust anchor's registry and this node's keys and trust list.

Trust anchor (run where the anchor's directory is; never on a node)::

    federation anchor-init --dir DIR [--name NAME]
    federation member-add --dir DIR --code 340100 --name 合肥市 --endpoint URL --public-key B64 --kid KID [--roles node]
    federation member-rotate --dir DIR --code C --public-key B64 --kid KID [--overlap-hours 24]
    federation member-remove --dir DIR --code C
    federation publish --dir DIR --out FILE [--valid-hours 24]

Node::

    federation node-init [--kid KID] [--endpoint URL] [--anchor-dir DIR]
    federation node-rotate [--kid KID] [--anchor-dir DIR]
    federation trust-install FILE
    federation trust-refresh
    federation trust-show [--json]

Exit codes: 0 done, 1 a check failed (trust-refresh could not refresh, trust-show: list not usable),
2 bad input.

Subcommands live in one table, :data:`SUBCOMMANDS`. Another module adds one with one line there::

    "outbox": Subcommand("…", "tongban.exchange.outbox:outbox_arguments", "tongban.exchange.outbox:outbox_command"),

``add_arguments(parser)`` declares its arguments; ``handle(command, options)`` runs it, writing to
``command.stdout`` and raising ``CommandError`` (or any ``TongbanError``, which becomes exit code 2).
Both may be given as callables or as ``"module:function"`` strings, imported only when needed.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import json
import os
import secrets
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tongban.core.errors import TongbanError
from tongban.exchange.canonical import CanonicalError, format_time, loads_strict
from tongban.exchange.envelope import ALG_TEXT, KID_TEXT
from tongban.exchange.signing import ED25519, Ed25519Signer, b64u, b64u_decode, suite_for

BAD_INPUT = 2
CHECK_FAILED = 1


@dataclass(frozen=True)
class Subcommand:
    help: str
    add_arguments: Callable[[CommandParser], None] | str
    handle: Callable[[BaseCommand, dict[str, Any]], None] | str


def _resolve(ref: Callable | str) -> Callable:
    if callable(ref):
        return ref
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


def bad(message: str) -> CommandError:
    return CommandError(message, returncode=BAD_INPUT)


def _now() -> datetime:
    return datetime.now(UTC)


def _write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Writes ``path`` whole or not at all: a synced temporary file in the same directory, renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"


# --- The trust anchor's directory -----------------------------------------------------------------

ANCHOR_KEY = "anchor.pem"
ANCHOR_META = "anchor.json"
PASSPHRASE_FILE = "passphrase"
REGISTRY = "registry.json"
PUBLIC_KEY_FILE = "public.key"  # the anchor's public key, what nodes configure as TONGBAN_TRUST_ANCHOR_KEY
PASSPHRASE_ENV = "TONGBAN_ANCHOR_PASSPHRASE"
MAX_HOURS = 24 * 366


def _anchor_dir(options: dict) -> Path:
    return Path(options["dir"]).expanduser().resolve()


@contextlib.contextmanager
def _registry_lock(directory: Path):
    fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _read_registry(directory: Path) -> dict:
    path = directory / REGISTRY
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise bad(
            f"{directory} 不是信任锚目录（没有 {REGISTRY}）：请先运行 federation anchor-init --dir {directory}。"
        ) from None
    except (OSError, ValueError) as exc:
        raise bad(f"无法读取 {path}：{exc}") from exc


def _write_registry(directory: Path, registry: dict) -> None:
    _write_atomic(directory / REGISTRY, _json_bytes(registry), 0o600)


def _anchor_passphrase(directory: Path) -> bytes:
    from_env = os.environ.get(PASSPHRASE_ENV)
    if from_env:
        return from_env.encode("utf-8")
    try:
        return (directory / PASSPHRASE_FILE).read_text(encoding="utf-8").strip().encode("utf-8")
    except FileNotFoundError:
        raise bad(f"未设置 {PASSPHRASE_ENV}，{directory} 中也没有口令文件 {PASSPHRASE_FILE}。") from None


def _anchor_signer(directory: Path) -> Ed25519Signer:
    try:
        meta = json.loads((directory / ANCHOR_META).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise bad(f"无法读取 {directory / ANCHOR_META}：{exc}") from exc
    try:
        key = serialization.load_pem_private_key(
            (directory / ANCHOR_KEY).read_bytes(), _anchor_passphrase(directory)
        )
    except FileNotFoundError:
        raise bad(f"{directory} 中没有信任锚私钥 {ANCHOR_KEY}。") from None
    except (ValueError, TypeError) as exc:
        raise bad(
            f"无法解密信任锚私钥：口令（{PASSPHRASE_ENV} 或 {PASSPHRASE_FILE}）不对，或文件已损坏。"
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise bad("信任锚私钥不是 Ed25519 私钥。")
    return Ed25519Signer(key, meta["kid"])


def _args_anchor_init(p: CommandParser) -> None:
    p.add_argument("--dir", required=True, help="信任锚目录（私钥、口令、成员登记簿）")
    p.add_argument("--name", default="长三角政务服务一网通办", help="联盟名称")


def _anchor_init(cmd: BaseCommand, options: dict) -> None:
    directory = _anchor_dir(options)
    if (directory / ANCHOR_KEY).exists():
        meta = json.loads((directory / ANCHOR_META).read_text(encoding="utf-8"))
        if not (directory / PUBLIC_KEY_FILE).exists():
            _write_atomic(directory / PUBLIC_KEY_FILE, meta["public_key"].encode("ascii") + b"\n", 0o644)
        cmd.stderr.write(f"{directory} 中已有信任锚（密钥 {meta['kid']}），未作改动。")
        cmd.stdout.write(f"TONGBAN_TRUST_ANCHOR_KEY={meta['public_key']}")
        return
    if (directory / REGISTRY).exists():
        raise bad(
            f"{directory} 中有成员登记簿却没有信任锚私钥 {ANCHOR_KEY}：请从备份恢复私钥，不要重新初始化。"
        )
    name = options["name"].strip()
    if not name:
        raise bad("联盟名称不能为空。")
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    with _registry_lock(directory):
        if os.environ.get(PASSPHRASE_ENV):
            passphrase = os.environ[PASSPHRASE_ENV].encode("utf-8")
            where = f"环境变量 {PASSPHRASE_ENV}"
        else:
            passphrase = secrets.token_hex(32).encode("ascii")
            _write_atomic(directory / PASSPHRASE_FILE, passphrase + b"\n", 0o600)
            where = f"{directory / PASSPHRASE_FILE}（仅供演示；正式环境请改用 {PASSPHRASE_ENV}）"
        private = Ed25519PrivateKey.generate()
        signer = Ed25519Signer(private, f"anchor-{_now():%Y%m%d}-{secrets.token_hex(2)}")
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase),
        )
        public = b64u(signer.public_key)
        _write_atomic(directory / ANCHOR_KEY, pem, 0o600)
        meta = {
            "name": name,
            "kid": signer.kid,
            "alg": ED25519,
            "public_key": public,
            "created_at": format_time(_now()),
        }
        _write_atomic(directory / ANCHOR_META, _json_bytes(meta), 0o600)
        _write_atomic(directory / PUBLIC_KEY_FILE, public.encode("ascii") + b"\n", 0o644)
        _write_registry(
            directory, {"federation": name, "anchor_kid": signer.kid, "version": 0, "members": []}
        )
    cmd.stderr.write(f"已在 {directory} 创建信任锚“{name}”（密钥 {signer.kid}，口令保存在{where}）。")
    cmd.stderr.write("各节点把下面这一行配置为环境变量：")
    cmd.stdout.write(f"TONGBAN_TRUST_ANCHOR_KEY={public}")


def _check_code(code: str) -> str:
    from tongban.regions.divisions import lookup

    if len(code) != 6 or not code.isdigit() or lookup(code) is None:
        raise bad(f"“{code}”不是有效的6位行政区划代码（GB/T 2260）。")
    return code


def _check_endpoint(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise bad(f"节点地址“{endpoint}”应为 http:// 或 https:// 开头的地址（不带查询串）。")
    return endpoint.rstrip("/")


def _check_key(options: dict, registry: dict) -> dict:
    kid, alg, text = options["kid"], options["alg"], options["public_key"]
    if not KID_TEXT.fullmatch(kid):
        raise bad(f"密钥标识“{kid}”只能含 A-Z a-z 0-9 . _ : -，不超过 128 个字符。")
    suite = suite_for(alg) if ALG_TEXT.fullmatch(alg) else None
    if suite is None:
        raise bad(f"不支持的签名算法“{alg}”。")
    try:
        public = b64u_decode(text)
    except ValueError:
        raise bad("公钥应为无填充的 base64url（node-init 打印的那一串）。") from None
    if not suite.public_key_ok(public):
        raise bad(f"公钥不是 {alg} 公钥（长度 {len(public)} 字节）。")
    for member in registry["members"]:
        for key in member["keys"]:
            if key["public_key"] == text:
                raise bad(
                    f"这个公钥已登记为 {member['code']} 的密钥 {key['kid']}：每个密钥只能属于一个节点。"
                )
    return {"kid": kid, "alg": alg, "public_key": text, "not_before": format_time(_now()), "not_after": None}


def _find(registry: dict, code: str) -> dict | None:
    return next((m for m in registry["members"] if m["code"] == code), None)


def _args_key(p: CommandParser) -> None:
    p.add_argument("--public-key", required=True, help="节点公钥（无填充 base64url）")
    p.add_argument("--kid", required=True, help="密钥标识")
    p.add_argument("--alg", default=ED25519, help="签名算法（默认 Ed25519）")


def _args_member_add(p: CommandParser) -> None:
    p.add_argument("--dir", required=True, help="信任锚目录")
    p.add_argument("--code", required=True, help="节点的6位行政区划代码")
    p.add_argument("--name", required=True, help="节点名称，如 合肥市")
    p.add_argument("--endpoint", required=True, help="节点地址，如 https://tongban.hefei.gov.cn")
    _args_key(p)
    p.add_argument("--roles", default="node", help="角色，逗号分隔（默认 node）")


def _member_add(cmd: BaseCommand, options: dict) -> None:
    directory = _anchor_dir(options)
    code = _check_code(options["code"])
    name = options["name"].strip()
    if not name:
        raise bad("节点名称不能为空。")
    endpoint = _check_endpoint(options["endpoint"])
    roles = [r.strip() for r in options["roles"].split(",") if r.strip()]
    if not roles or any(not r.isascii() or not r.replace("_", "").replace("-", "").isalnum() for r in roles):
        raise bad("角色应为逗号分隔的英文名称，如 node。")
    with _registry_lock(directory):
        registry = _read_registry(directory)
        existing = _find(registry, code)
        if existing is not None:
            what = "已被移出联盟" if existing["status"] == "removed" else "已是成员"
            raise bad(f"{code}（{existing['name']}）{what}；更换密钥请用 member-rotate。")
        key = _check_key(options, registry)
        registry["members"].append(
            {
                "code": code,
                "name": name,
                "endpoint": endpoint,
                "roles": sorted(set(roles)),
                "status": "active",
                "keys": [key],
            }
        )
        registry["members"].sort(key=lambda m: m["code"])
        _write_registry(directory, registry)
    cmd.stdout.write(f"已登记成员 {code} {name}（密钥 {key['kid']}）。运行 publish 发布新的信任列表后生效。")


def _args_member_rotate(p: CommandParser) -> None:
    p.add_argument("--dir", required=True, help="信任锚目录")
    p.add_argument("--code", required=True, help="节点的6位行政区划代码")
    _args_key(p)
    p.add_argument("--overlap-hours", type=int, default=24, help="旧密钥继续有效的小时数（默认 24）")


def _member_rotate(cmd: BaseCommand, options: dict) -> None:
    directory = _anchor_dir(options)
    code = options["code"]
    overlap = options["overlap_hours"]
    if not 0 <= overlap <= MAX_HOURS:
        raise bad(f"--overlap-hours 应在 0 到 {MAX_HOURS} 之间。")
    with _registry_lock(directory):
        registry = _read_registry(directory)
        member = _find(registry, code)
        if member is None:
            raise bad(f"{code} 不是成员。")
        if member["status"] != "active":
            raise bad(f"{code}（{member['name']}）已被移出联盟。")
        if any(k["kid"] == options["kid"] for k in member["keys"]):
            raise bad(f"{code} 已有密钥 {options['kid']}，请换一个密钥标识。")
        key = _check_key(options, registry)
        cutoff = _now() + timedelta(hours=overlap)
        retired = []
        for old in member["keys"]:
            if old["not_after"] is None or old["not_after"] > format_time(cutoff):
                old["not_after"] = format_time(max(cutoff, _after(old["not_before"])))
                retired.append(old["kid"])
        member["keys"].append(key)
        _write_registry(directory, registry)
    until = format_time(cutoff)
    cmd.stdout.write(
        f"已为 {code} 登记新密钥 {key['kid']}；旧密钥 {', '.join(retired) or '（无）'} 有效至 {until}。"
        "运行 publish 发布新的信任列表后生效。"
    )


def _after(not_before: str) -> datetime:
    """The earliest not_after a key may get: one millisecond after its not_before."""
    from tongban.exchange.canonical import parse_time

    return parse_time(not_before) + timedelta(milliseconds=1)


def _args_member_remove(p: CommandParser) -> None:
    p.add_argument("--dir", required=True, help="信任锚目录")
    p.add_argument("--code", required=True, help="节点的6位行政区划代码")


def _member_remove(cmd: BaseCommand, options: dict) -> None:
    directory = _anchor_dir(options)
    code = options["code"]
    with _registry_lock(directory):
        registry = _read_registry(directory)
        member = _find(registry, code)
        if member is None:
            raise bad(f"{code} 不是成员。")
        if member["status"] == "removed":
            cmd.stdout.write(f"{code}（{member['name']}）已是移出状态，未作改动。")
            return
        member["status"] = "removed"
        _write_registry(directory, registry)
    cmd.stdout.write(f"已将 {code}（{member['name']}）移出联盟。运行 publish 发布新的信任列表后生效。")


def _args_publish(p: CommandParser) -> None:
    p.add_argument("--dir", required=True, help="信任锚目录")
    p.add_argument("--out", required=True, help="写出的信任列表文件")
    p.add_argument("--valid-hours", type=int, default=24, help="距下次更新的小时数（默认 24）")


def _publish(cmd: BaseCommand, options: dict) -> None:
    from tongban.exchange.trust import trust_list_sign, trust_list_verify

    directory = _anchor_dir(options)
    hours = options["valid_hours"]
    if not 1 <= hours <= MAX_HOURS:
        raise bad(f"--valid-hours 应在 1 到 {MAX_HOURS} 之间。")
    out = Path(options["out"]).expanduser()
    with _registry_lock(directory):
        registry = _read_registry(directory)
        signer = _anchor_signer(directory)
        now = _now()
        payload = {
            "version": registry["version"] + 1,
            "issued_at": format_time(now),
            "next_update": format_time(now + timedelta(hours=hours)),
            "members": sorted(registry["members"], key=lambda m: m["code"]),
        }
        try:
            document = trust_list_sign(payload, signer=signer)
            trust_list_verify(document, anchor_keys=[signer.public_key])
        except TongbanError as exc:
            raise bad(f"登记簿内容有误，未发布：{exc.message}") from exc
        # The registry's version first: a crash in between leaves a gap, never one version twice.
        registry["version"] = payload["version"]
        _write_registry(directory, registry)
        _write_atomic(out, _json_bytes(document))
    active = sum(1 for m in payload["members"] if m["status"] == "active")
    cmd.stdout.write(
        f"已发布第 {payload['version']} 版信任列表：{out}（{active} 个在册成员，下次更新 {payload['next_update']}）。"
    )


# --- This node ------------------------------------------------------------------------------------


def _anchor_dir_arg(options: dict) -> str:
    return shlex.quote(options["anchor_dir"]) if options.get("anchor_dir") else '"$ANCHOR_DIR"'


def _args_node_init(p: CommandParser) -> None:
    p.add_argument("--kid", help="密钥标识（默认：节点代码-日期-随机后缀）")
    p.add_argument("--endpoint", default="http://127.0.0.1:8000", help="本节点对外地址（写进打印的登记命令）")
    p.add_argument("--anchor-dir", help="信任锚目录（写进打印的登记命令）")
    p.add_argument(
        "--json",
        action="store_true",
        help="以 JSON 输出（code、name、kid、alg、public_key、created_at、member_add）",
    )


def _node_init(cmd: BaseCommand, options: dict) -> None:
    from tongban.exchange.keys import node_key_init

    endpoint = _check_endpoint(options["endpoint"])
    key = node_key_init(kid=options["kid"])
    member_add = " ".join(
        [
            "tongban federation member-add",
            f"--dir {_anchor_dir_arg(options)}",
            f"--code {shlex.quote(settings.NODE_CODE)}",
            f"--name {shlex.quote(settings.NODE_NAME)}",
            f"--endpoint {shlex.quote(endpoint)}",
            f"--public-key {key.public_key_b64u}",
            f"--kid {shlex.quote(key.kid)}",
        ]
    )
    if options["json"]:
        info = {
            "code": settings.NODE_CODE,
            "name": settings.NODE_NAME,
            "kid": key.kid,
            "alg": key.alg,
            "public_key": key.public_key_b64u,
            "created_at": format_time(key.created_at),
            "member_add": member_add,
        }
        cmd.stdout.write(json.dumps(info, ensure_ascii=False))
        return
    cmd.stdout.write(f"节点代码：{settings.NODE_CODE}（{settings.NODE_NAME}）")
    cmd.stdout.write(f"密钥标识：{key.kid}（{key.alg}，创建于 {format_time(key.created_at)}）")
    cmd.stdout.write(f"公钥：{key.public_key_b64u}")
    cmd.stdout.write("在信任锚上登记本节点：")
    cmd.stdout.write(member_add)


def _args_node_rotate(p: CommandParser) -> None:
    p.add_argument("--kid", help="新密钥的标识（默认：节点代码-日期-随机后缀）")
    p.add_argument("--anchor-dir", help="信任锚目录（写进打印的登记命令）")
    p.add_argument("--overlap-hours", type=int, default=24, help="旧密钥继续有效的小时数（写进打印的命令）")


def _node_rotate(cmd: BaseCommand, options: dict) -> None:
    from tongban.exchange.keys import node_key_rotate

    key = node_key_rotate(kid=options["kid"])
    cmd.stdout.write(f"新密钥：{key.kid}（{key.alg}）")
    cmd.stdout.write(f"公钥：{key.public_key_b64u}")
    cmd.stdout.write("本节点继续用旧密钥签名，直到安装了含新密钥的信任列表。在信任锚上运行：")
    cmd.stdout.write(
        f"tongban federation member-rotate --dir {_anchor_dir_arg(options)} --code {shlex.quote(settings.NODE_CODE)} "
        f"--public-key {key.public_key_b64u} --kid {shlex.quote(key.kid)} --overlap-hours {options['overlap_hours']}"
    )


def _args_trust_install(p: CommandParser) -> None:
    p.add_argument("file", help="信任锚发布的信任列表文件")


def _trust_install(cmd: BaseCommand, options: dict) -> None:
    from tongban.exchange.trust import install_if_newer

    path = Path(options["file"]).expanduser()
    try:
        document = loads_strict(path.read_bytes())
    except OSError as exc:
        raise bad(f"无法读取 {path}：{exc.strerror or exc}") from exc
    except CanonicalError as exc:
        raise bad(f"{path} 不是合法的 JSON：{exc}") from exc
    trust, installed = install_if_newer(document)
    if installed:
        cmd.stdout.write(
            f"已安装第 {trust.version} 版信任列表（{len(trust.members)} 个成员，下次更新 {format_time(trust.next_update)}）。"
        )
    else:
        cmd.stdout.write(f"第 {trust.version} 版信任列表已在使用，未作改动。")


def _args_none(p: CommandParser) -> None:
    pass


def _trust_refresh(cmd: BaseCommand, options: dict) -> None:
    from tongban.exchange.trust import trust_list_refresh

    result = trust_list_refresh()
    if not result.ok:
        held = f"继续使用第 {result.version} 版。" if result.version else "本节点尚无信任列表。"
        raise CommandError(f"[{result.error_code}] {result.error} {held}", returncode=CHECK_FAILED)
    if result.installed:
        cmd.stdout.write(f"已更新到第 {result.version} 版信任列表。")
    else:
        cmd.stdout.write(f"第 {result.version} 版信任列表已是最新。")


STATE_LABELS = {
    "ok": "有效",
    "grace": "已过更新时间，处于宽限期",
    "expired": "已过期（暂停收发信封）",
    "missing": "未安装",
    "invalid": "无法验证",
}


def _args_trust_show(p: CommandParser) -> None:
    p.add_argument("--json", action="store_true", help="以 JSON 输出")


def _trust_show(cmd: BaseCommand, options: dict) -> None:
    from tongban.exchange.trust import installed_trust_list, trust_status

    status = trust_status()
    trust = None
    with contextlib.suppress(TongbanError):
        trust = installed_trust_list()
    members = []
    if trust is not None:
        for m in trust.members.values():
            members.append(
                {
                    "code": m.code,
                    "name": m.name,
                    "endpoint": m.endpoint,
                    "roles": list(m.roles),
                    "status": m.status,
                    "keys": [
                        {
                            "kid": k.kid,
                            "alg": k.alg,
                            "not_before": format_time(k.not_before),
                            "not_after": format_time(k.not_after) if k.not_after else None,
                        }
                        for k in m.keys
                    ],
                }
            )
    if options["json"]:
        cmd.stdout.write(
            json.dumps({**status.as_dict(), "member_list": members}, ensure_ascii=False, indent=2)
        )
    else:
        info = status.as_dict()
        cmd.stdout.write(f"信任列表：第 {status.version} 版，{STATE_LABELS[status.state]}")
        if trust is not None:
            cmd.stdout.write(
                f"签发 {info['issued_at']}，下次更新 {info['next_update']}，最迟可用至 {info['usable_until']}"
            )
        cmd.stdout.write(f"最近成功获取：{info['fetched_at'] or '无'}")
        if status.last_error:
            cmd.stdout.write(f"最近一次获取失败（{info['last_error_at']}）：{status.last_error}")
        for m in members:
            mark = "" if m["status"] == "active" else "（已移出）"
            cmd.stdout.write(f"  {m['code']} {m['name']}{mark}  {m['endpoint']}  角色 {','.join(m['roles'])}")
            for k in m["keys"]:
                cmd.stdout.write(
                    f"      密钥 {k['kid']} {k['alg']}  {k['not_before']} 至 {k['not_after'] or '无期限'}"
                )
    if not status.usable:
        raise CommandError(f"信任列表不可用：{STATE_LABELS[status.state]}。", returncode=CHECK_FAILED)


# --- The table ------------------------------------------------------------------------------------

SUBCOMMANDS: dict[str, Subcommand] = {
    "anchor-init": Subcommand("信任锚：创建信任锚密钥和空的成员登记簿", _args_anchor_init, _anchor_init),
    "member-add": Subcommand("信任锚：登记新成员节点", _args_member_add, _member_add),
    "member-rotate": Subcommand(
        "信任锚：为成员登记新密钥，旧密钥在重叠期后失效", _args_member_rotate, _member_rotate
    ),
    "member-remove": Subcommand("信任锚：将成员移出联盟", _args_member_remove, _member_remove),
    "publish": Subcommand("信任锚：签署并发布新版本的信任列表", _args_publish, _publish),
    "node-init": Subcommand("本节点：创建签名密钥（已有则显示），打印登记命令", _args_node_init, _node_init),
    "node-rotate": Subcommand("本节点：生成新的签名密钥，打印换钥命令", _args_node_rotate, _node_rotate),
    "trust-install": Subcommand("本节点：安装信任列表文件", _args_trust_install, _trust_install),
    "trust-refresh": Subcommand(
        "本节点：从 TONGBAN_TRUST_LIST_URL 获取并安装更新的信任列表", _args_none, _trust_refresh
    ),
    "trust-show": Subcommand("本节点：显示信任列表的版本、期限和成员", _args_trust_show, _trust_show),
    "outbox": Subcommand(
        "发件箱（--parked 只列已搁置）",
        "tongban.exchange.outbox:outbox_arguments",
        "tongban.exchange.outbox:outbox_command",
    ),
    "resend": Subcommand(
        "重新发送已搁置的消息",
        "tongban.exchange.outbox:resend_arguments",
        "tongban.exchange.outbox:resend_command",
    ),
    "ping": Subcommand(
        "向另一节点发送签名探测消息（连通性与送达时间）",
        "tongban.exchange.ping:ping_arguments",
        "tongban.exchange.ping:ping_command",
    ),
    "messages": Subcommand(
        "消息日志：按办件、节点、类型和时间检索",
        "tongban.exchange.outbox:messages_arguments",
        "tongban.exchange.outbox:messages_command",
    ),
    "prune": Subcommand(
        "按保留期限清理已送达、已处理的消息和拒收记录",
        "tongban.exchange.retention:prune_arguments",
        "tongban.exchange.retention:prune_command",
    ),
    "sweep-files": Subcommand(
        "清理崩溃留下的文件：归位已提交的暂存文件，删除无记录引用的文件",
        "tongban.exchange.files:sweep_files_arguments",
        "tongban.exchange.files:sweep_files_command",
    ),
}


class _SubParser(CommandParser):
    """Bad arguments are bad input (exit code 2) also when the command is called from code.

    A value may start with ``-`` (one base64url public key in 64 does): ``--public-key -Xb…`` is read
    as ``--public-key=-Xb…`` instead of argparse's "expected one argument"."""

    def parse_known_args(self, args=None, namespace=None):
        if args is not None:
            takes_value = {
                option
                for action in self._actions
                if action.option_strings and action.nargs is None and action.const is None
                for option in action.option_strings
            }
            joined, i = [], 0
            args = list(args)
            while i < len(args):
                if args[i] in takes_value and i + 1 < len(args) and args[i + 1].startswith("-"):
                    joined.append(f"{args[i]}={args[i + 1]}")
                    i += 2
                else:
                    joined.append(args[i])
                    i += 1
            args = joined
        return super().parse_known_args(args, namespace)

    def error(self, message):
        if self.called_from_command_line:
            super().error(message)
        raise CommandError(f"参数错误：{message}", returncode=BAD_INPUT)


class Command(BaseCommand):
    help = "联盟：信任锚登记簿与信任列表发布；本节点的签名密钥和信任列表。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(
            dest="subcommand",
            required=True,
            metavar="{" + ",".join(SUBCOMMANDS) + "}",
            parser_class=_SubParser,
        )
        for name, entry in SUBCOMMANDS.items():
            _resolve(entry.add_arguments)(sub.add_parser(name, help=entry.help, description=entry.help))

    def handle(self, *args, **options):
        entry = SUBCOMMANDS[options["subcommand"]]
        try:
            _resolve(entry.handle)(self, options)
        except TongbanError as exc:
            raise CommandError(f"[{exc.code}] {exc.message}", returncode=BAD_INPUT) from exc
