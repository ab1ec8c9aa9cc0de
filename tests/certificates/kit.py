"""A node that issues certificates, in a small federation: this node (合肥, ``NODE_CODE``) with a real
key on disk, listed in a trust list signed by a test anchor; 上海 signs with SM2 (国密) and 黄山 with
Ed25519, as other nodes would, so credentials and status lists "from elsewhere" can be made here."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from tests import factories
from tests.exchange import kit as xkit
from tongban.certificates.reference import certificate_types_load
from tongban.exchange import keys as keys_module
from tongban.exchange.canonical import format_time
from tongban.exchange.signing import SM2Signer, sm2_generate

HEFEI, SHANGHAI, HUANGSHAN = xkit.HEFEI, xkit.SHANGHAI, xkit.HUANGSHAN
SHANGHAI_SM2 = SM2Signer(sm2_generate(), "310000-sm2-test")


def key_entry(signer, **kw):
    return xkit.key_entry(signer, **kw)


def node_key_entry(key, **kw) -> dict:
    entry = {
        "kid": key.kid,
        "alg": key.alg,
        "public_key": key.public_key_b64u,
        "not_before": format_time(kw.get("not_before") or datetime.now(UTC) - timedelta(days=30)),
        "not_after": format_time(kw["not_after"]) if kw.get("not_after") else None,
    }
    return entry


_versions = itertools.count(1)


def install(settings, *, removed=(), hefei_keys=None, extra_keys=None):
    """Installs a trust list naming this node's own key(s) for 合肥."""
    own = [node_key_entry(k) for k in keys_module.node_public_keys()]
    keys = {
        HEFEI: hefei_keys if hefei_keys is not None else own,
        SHANGHAI: [key_entry(SHANGHAI_SM2)],
        HUANGSHAN: [key_entry(xkit.KEYS[HUANGSHAN])],
    }
    for code, entries in (extra_keys or {}).items():
        keys[code] = keys[code] + entries
    keys_module.invalidate_cache()
    return xkit.install_trust(settings, keys=keys, removed=removed, version=next(_versions))


def node(settings, tmp_path, *, alg="Ed25519"):
    """Makes this test's database a 合肥 node that can issue: key, trust list, types, an authority."""
    settings.NODE_CODE = HEFEI
    settings.KEY_DIR = tmp_path / "keys"
    settings.SIGNATURE_SUITE = alg
    keys_module.invalidate_cache()
    keys_module.node_key_init()
    trust = install(settings)
    certificate_types_load()
    authority = factories.organisation()
    return trust, authority


def issue(authority, *, type_key="sbk", holder_id=None, holder_name="张三", data=None, **kw):
    from tongban.certificates.services import certificate_issue

    defaults = {
        "sbk": {"card_kind": "第三代社会保障卡", "issuing_region": "合肥市"},
        "jszz": {"vehicle_class": "C1"},
        "xwzs": {
            "degree": "工学学士",
            "discipline": "工学",
            "awarding_body": "中国科学技术大学",
            "awarded_on": "2012-06-30",
        },
        "wfzjl": {"purpose": "入职", "statement": "未发现该人有犯罪记录。"},
    }
    return certificate_issue(
        type_key=type_key,
        holder_name=holder_name,
        holder_id_type="ric",
        holder_id=holder_id or factories.id_number(),
        data=data if data is not None else defaults[type_key],
        issuer=authority,
        **kw,
    )
