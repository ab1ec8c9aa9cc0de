"""``tongban demo``: three city nodes of the federation on this machine.

上海 (310000) :8001, 合肥 (340100) :8002, 黄山 (341000) :8003 — each with its own SQLite database,
signing key, web process, worker and staff, under ``var/nodes/<code>/``. A trust anchor under
``var/federation/`` signs the trust list they all install. Idempotent: a second run reuses the
databases, keys and accounts and publishes a new trust-list version.

    tongban demo            start, print addresses and logins; Ctrl-C or SIGTERM stops everything
    tongban demo --detach   start in the background (pids in var/federation/pids.json)
    tongban demo --stop     stop what --detach started
    tongban demo --single   the one-node demo on :8000
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class DemoNode:
    code: str
    name: str
    port: int
    # Each node chooses its signature suite; 黄山 shows the 国密 one (every node verifies both).
    signature_suite: str = "Ed25519"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def demo_nodes() -> tuple[DemoNode, ...]:
    # TONGBAN_DEMO_DIR (default var/) holds the demo's nodes and anchor.
    # TONGBAN_DEMO_PORT_BASE: first port of the demo federation (tests run one on other ports).
    base = int(os.environ.get("TONGBAN_DEMO_PORT_BASE", "8001"))
    return (
        DemoNode("310000", "上海市", base),
        DemoNode("340100", "合肥市", base + 1),
        DemoNode("341000", "黄山市", base + 2, "SM2-SM3"),
    )


def _var() -> Path:
    return Path(os.environ.get("TONGBAN_DEMO_DIR", REPO / "var"))


def _fed_dir() -> Path:
    return _var() / "federation"


def _cli(*args: str, env: dict | None = None, capture: bool = True) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "tongban.cli", *args],
        env=env,
        cwd=REPO,
        text=True,
        capture_output=capture,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"tongban {' '.join(args)} 失败：\n{result.stderr or result.stdout}")
    return result.stdout if capture else ""


def node_env(node: DemoNode, anchor_key: str = "") -> dict:
    env = dict(os.environ)
    for key in ("DATABASE_URL", "CELERY_BROKER_URL"):
        env.pop(key, None)  # the demo is the embedded setup: SQLite and the in-process worker
    env.update(
        TONGBAN_VAR_DIR=str(_var() / "nodes" / node.code),
        TONGBAN_NODE_CODE=node.code,
        TONGBAN_NODE_NAME=node.name,
        TONGBAN_TRUST_LIST_URL=str(_fed_dir() / "trust-list.json"),
        TONGBAN_BIND_PORT=str(node.port),
        TONGBAN_SIGNATURE_SUITE=node.signature_suite,
    )
    if anchor_key:
        env["TONGBAN_TRUST_ANCHOR_KEY"] = anchor_key
    return env


def _anchor_key() -> str:
    anchor = _fed_dir() / "anchor"
    if not (anchor / "registry.json").exists():
        _cli(
            "federation", "anchor-init", "--dir", str(anchor), "--name", "长三角政务服务一网通办联盟（演示）"
        )
    return (anchor / "public.key").read_text().strip()


def prepare() -> list[tuple[DemoNode, list]]:
    """Databases, catalogues, accounts and keys of each node; the trust list naming them all."""
    anchor = _fed_dir() / "anchor"
    key = _anchor_key()
    out = []
    for node in demo_nodes():
        env = node_env(node, key)
        _cli("demo-node-prepare", env=env)
        info = json.loads(_cli("federation", "node-init", "--json", env=env))
        registry = json.loads((anchor / "registry.json").read_text())
        members = {m["code"]: m for m in registry.get("members", [])}
        known = members.get(node.code)
        if known is None:
            _cli(
                "federation",
                "member-add",
                "--dir",
                str(anchor),
                "--code",
                node.code,
                "--name",
                node.name,
                "--endpoint",
                node.url,
                "--public-key",
                info["public_key"],
                "--kid",
                info["kid"],
                "--alg",
                info["alg"],
            )
        elif info["kid"] not in {k["kid"] for k in known.get("keys", [])}:
            _cli(
                "federation",
                "member-rotate",
                "--dir",
                str(anchor),
                "--code",
                node.code,
                "--public-key",
                info["public_key"],
                "--kid",
                info["kid"],
                "--alg",
                info["alg"],
            )
        out.append((node, json.loads((Path(env["TONGBAN_VAR_DIR"]) / "demo-accounts.json").read_text())))
    _cli(
        "federation",
        "publish",
        "--dir",
        str(anchor),
        "--out",
        str(_fed_dir() / "trust-list.json"),
        "--valid-hours",
        "168",
    )
    for node in demo_nodes():
        _cli("federation", "trust-install", str(_fed_dir() / "trust-list.json"), env=node_env(node, key))
        _cli("demo-node-certificates", env=node_env(node, key))
    return out


def _wait_healthy(node: DemoNode, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(node.url + "/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{node.name} 节点在 {timeout:.0f} 秒内没有就绪（{node.url}/healthz）。")


def start(*, detach: bool) -> list[subprocess.Popen]:
    """Starts every node's web process and worker and waits until they answer. If any step fails
    (a port already taken, a node that never gets ready, Ctrl-C), what was started is stopped."""
    key = _anchor_key()
    procs = []
    logs = _var() / "federation" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    try:
        for node in demo_nodes():
            env = node_env(node, key)
            for role, args in (
                ("web", ["serve", "--workers", "2", "--threads", "4"]),
                ("worker", ["worker"]),
            ):
                with open(logs / f"{node.code}-{role}.log", "ab") as log:
                    procs.append(
                        subprocess.Popen(
                            [sys.executable, "-m", "tongban.cli", *args],
                            env=env,
                            cwd=REPO,
                            stdout=log,
                            stderr=subprocess.STDOUT,
                            start_new_session=detach,
                        )
                    )
        for node in demo_nodes():
            _wait_healthy(node)
        for node in demo_nodes():
            _cli("catalogue", "publish", env=node_env(node, key))
    except BaseException:
        stop(procs)
        raise
    return procs


def stop(procs: list[subprocess.Popen], timeout: float = 15) -> None:
    """Asks every process to stop (a node's gunicorn stops its own workers), then kills what is
    still running after ``timeout`` seconds."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
    deadline = time.monotonic() + timeout
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _interrupted(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


# Ctrl-C, ``kill`` (SIGTERM, what process supervisors and ``timeout`` send) and a closed terminal
# (SIGHUP) all stop every node: without this, SIGTERM ended only this process and left the nodes'
# web processes and workers running, holding their ports.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def supervise(procs: list[subprocess.Popen]) -> int:
    """Runs until a stop signal, or until a node process exits by itself; then stops them all.
    Returns 0 after a stop signal, 1 when a process had exited on its own."""
    previous = {sig: signal.signal(sig, _interrupted) for sig in STOP_SIGNALS}
    code = 0
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        print("有节点进程意外退出，正在停止全部节点；请查看 var/federation/logs/。", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        print("\n正在停止……", flush=True)
    finally:
        # A second Ctrl-C or SIGTERM while stopping must not leave nodes behind.
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        stop(procs)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code


ROLES = {
    "citizen": "自然人",
    "enterprise": "法人",
    "clerk": "窗口人员（代收）",
    "reviewer": "审批人员（市场监管）",
    "admin": "管理员（/admin/）",
}
# Accounts only the 合肥 node has: plan supervision (seed 001 is Hefei's plan) and proposal handling.
EXTRA_ROLES = {
    "planoffice": "推进办（导入方案、分工、审核、考核）",
    "planreporter": "责任单位填报（用户名 plan-kjj、plan-jtj 等）",
    "proposal_office": "建议提案交办人员",
    "proposal_handler": "承办人员（拟稿）",
    "proposal_signer": "签发领导",
    "proposal_supervisor": "督查人员（统计）",
}


def print_banner(prepared, *, detached: bool) -> None:
    print("\n  通办 Tongban 演示联盟已启动（三个城市节点，各自独立数据库、密钥、后台任务与工作人员）：\n")
    for node, accounts in prepared:
        print(f"  {node.name}（{node.code}）  {node.url}/")
        for username, role in ROLES.items():
            print(f"      {username:<19} {accounts[username]:<18} {role}")
        for name, role in EXTRA_ROLES.items():
            if name in accounts:
                print(f"      {name:<19} {accounts[name]:<18} {role}")
    print(f"      {'reviewerN':<19} {'同 reviewer 密码':<15} 本市其他审批部门的审批人员")
    print("\n  试一试：在合肥登录 citizen，搜索上海的“内资有限公司设立登记”（或 yyzz）并申请；")
    print("  在上海登录 reviewer 受理、补正或办结；合肥的“我的办件”随之更新。")
    logs = _fed_dir() / "logs"
    if detached:
        print(f"  日志在 {logs}。停止：tongban demo --stop\n", flush=True)
    else:
        print(f"  日志在 {logs}。按 Ctrl-C 全部停止。\n", flush=True)


def stop_detached() -> int:
    pidfile = _fed_dir() / "pids.json"
    if not pidfile.exists():
        print("没有在后台运行的演示联盟。")
        return 0
    for pid in json.loads(pidfile.read_text()):
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    pidfile.unlink()
    print("演示联盟已停止。")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tongban demo", description="启动三个城市节点的演示联盟")
    parser.add_argument("--detach", action="store_true", help="在后台运行")
    parser.add_argument("--stop", action="store_true", help="停止后台运行的演示联盟")
    parser.add_argument("--prepare-only", action="store_true", help="只准备数据和密钥，不启动")
    args = parser.parse_args(argv)
    if args.stop:
        return stop_detached()
    if (_fed_dir() / "pids.json").exists():
        stop_detached()
    # Until the nodes run, SIGTERM and SIGHUP stop this process as Ctrl-C does: start() then
    # stops whatever it had started.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupted)
    try:
        prepared = prepare()
        if args.prepare_only:
            return 0
        procs = start(detach=args.detach)
    except KeyboardInterrupt:
        print("\n已停止。", file=sys.stderr)
        return 130
    print_banner(prepared, detached=args.detach)
    if args.detach:
        (_fed_dir() / "pids.json").write_text(json.dumps([p.pid for p in procs]))
        return 0
    return supervise(procs)
