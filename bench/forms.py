"""Valid application forms for an item's ``form_schema`` (JSON Schema 2020-12), with plausible values.

Only the keywords the catalogue uses are understood (type, enum, pattern, format "date", min/max
lengths and values, arrays of enums); a schema with anything else raises ``Unsupported`` so the item
is left out rather than sent with a form the server would refuse.
"""

from __future__ import annotations

import random
import string
from datetime import date, timedelta

from stdnum.cn import uscc as uscc_std

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严莫孔向常汤康易乔赖文"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建红鹏飞晓燕宇辉波斌俊峰浩婷雪琳欣怡子涵梓轩思远嘉诚佳慧文博志雨欣晨阳天宇一鸣"
STREETS = [
    "人民路",
    "长江路",
    "中山路",
    "解放路",
    "建设路",
    "和平路",
    "淮河路",
    "金寨路",
    "黄山路",
    "望江路",
    "太湖路",
    "南京东路",
    "延安西路",
    "钱塘江路",
    "西湖大道",
    "观前街",
    "干将路",
    "滨湖大道",
    "科学大道",
    "创新大道",
]
WORDS = [
    "华信",
    "瑞丰",
    "通达",
    "恒远",
    "新锐",
    "安和",
    "博源",
    "启明",
    "嘉禾",
    "长风",
    "同创",
    "锦程",
    "天衡",
    "云帆",
]
SCOPES = [
    "软件开发；信息技术咨询服务；数据处理和存储支持服务",
    "餐饮服务；食品销售；日用百货销售",
    "技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广",
    "货物进出口；技术进出口；国内贸易代理",
    "企业管理咨询；会议及展览服务；市场营销策划",
]
PLACES = [
    "江苏省南京市",
    "浙江省杭州市",
    "安徽省合肥市",
    "上海市",
    "江苏省苏州市",
    "浙江省宁波市",
    "安徽省芜湖市",
]


class Unsupported(Exception):
    pass


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def phone(rng: random.Random) -> str:
    return "1" + rng.choice("3456789") + "".join(rng.choice(string.digits) for _ in range(9))


def uscc(rng: random.Random) -> str:
    body = (
        "91"
        + rng.choice(["340100", "320100", "330100", "310115"])
        + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    )
    return body + uscc_std.calc_check_digit(body)


def _digits(rng: random.Random, lo: int, hi: int) -> str:
    n = rng.randint(lo, hi)
    return rng.choice("123456789") + "".join(rng.choice(string.digits) for _ in range(n - 1))


def _past_date(rng: random.Random, days: int = 365) -> str:
    return (date.today() - timedelta(days=rng.randint(1, days))).isoformat()


def _future_date(rng: random.Random, days: int = 365) -> str:
    return (date.today() + timedelta(days=rng.randint(1, days))).isoformat()


PATTERNS = {
    r"^1[3-9]\d{9}$": phone,
    r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$": uscc,
    r"^\d{6,20}$": lambda rng: _digits(rng, 8, 18),
    r"^\d{12,19}$": lambda rng: "62" + _digits(rng, 14, 17),
    r"^(19|20)\d{2}-(0[1-9]|1[0-2])$": lambda rng: f"{rng.randint(1995, 2024)}-{rng.randint(1, 12):02d}",
    r"^[A-Z]\d{9}$": lambda rng: (
        rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") + _digits(rng, 9, 9)
    ),  # 出生医学证明编号
}


def _text(name: str, title: str, rng: random.Random) -> str:
    """A plausible value for a free-text field, from its name and Chinese title."""
    city = rng.choice(PLACES)
    if name == "enterprise_name" or ("name" in name and "enterprise" in name):
        return f"{city.removesuffix('市')[-2:]}{rng.choice(WORDS)}{rng.choice(['科技', '贸易', '咨询', '餐饮'])}有限公司"
    if name in ("legal_representative", "executive_partner", "householder_name") or "姓名" in title:
        return person_name(rng)
    if "address" in name or "location" in name or "premises" in name or "地址" in title or "住所" in title:
        return f"{city}{rng.choice(STREETS)}{rng.randint(1, 999)}号"
    if "scope" in name:
        return rng.choice(SCOPES)
    if name in ("destination", "from_region"):
        return city
    if "school" in name:
        return rng.choice(["南京大学", "浙江大学", "中国科学技术大学", "复旦大学", "安徽大学", "苏州大学"])
    if "major" in name:
        return rng.choice(["计算机科学与技术", "法学", "会计学", "土木工程", "汉语言文学"])
    if "hospital" in name:
        return f"{city}第{rng.randint(1, 9)}人民医院"
    if "bank" in name:
        return rng.choice(["中国工商银行", "中国建设银行", "中国农业银行", "中国银行", "交通银行"])
    if name in ("from_agency", "from_centre", "employer", "current_employer", "receiving_party"):
        return f"{city}{rng.choice(WORDS)}服务中心"
    if name == "relation_to_householder":
        return rng.choice(["子", "女", "配偶", "父亲", "母亲"])
    if name == "project_name":
        return f"{city}{rng.choice(WORDS)}取水工程"
    return f"{title}（{rng.choice(WORDS)}）"


def _value(name: str, schema: dict, rng: random.Random):
    kind = schema.get("type")
    if "enum" in schema:
        return rng.choice(schema["enum"])
    if kind == "string":
        if "pattern" in schema:
            gen = PATTERNS.get(schema["pattern"])
            if gen is None:
                raise Unsupported(f"pattern {schema['pattern']!r}")
            return gen(rng)
        if schema.get("format") == "date":
            return _future_date(rng) if "expiry" in name or "end" in name else _past_date(rng)
        if "format" in schema:
            raise Unsupported(f"format {schema['format']!r}")
        text = _text(name, schema.get("title", name), rng)
        lo, hi = schema.get("minLength", 0), schema.get("maxLength", 10_000)
        text = text[:hi]
        while len(text) < lo:
            text += "号"
        return text
    if kind in ("integer", "number"):
        lo = schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1)
        hi = schema.get("maximum", max(lo, 0) + 500)
        value = rng.randint(int(lo), int(hi)) if hi >= lo else lo
        if kind == "number" and rng.random() < 0.5:
            value = round(value + rng.random() / 2, 2)
            if "maximum" in schema and value > schema["maximum"]:
                value = schema["maximum"]
        return value
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "array":
        items = schema.get("items", {})
        if "enum" not in items:
            raise Unsupported("array of non-enum items")
        n = max(schema.get("minItems", 0), rng.randint(1, min(3, len(items["enum"]))))
        return rng.sample(items["enum"], n)
    raise Unsupported(f"type {kind!r}")


KNOWN = {
    "type",
    "title",
    "description",
    "properties",
    "required",
    "additionalProperties",
    "$schema",
    "enum",
    "pattern",
    "format",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "items",
    "minItems",
    "uniqueItems",
}


def form_for(schema: dict, rng: random.Random, *, optional_share: float = 0.5) -> dict:
    """A valid instance of the form schema: every required field, and some of the optional ones."""
    if schema.get("type") != "object":
        raise Unsupported("top level is not an object")
    unknown = set(schema) - KNOWN
    for prop in schema.get("properties", {}).values():
        unknown |= set(prop) - KNOWN
    if unknown:
        raise Unsupported(f"keywords {sorted(unknown)}")
    # Checked for every field, not only the ones drawn: an item is usable or not whatever the draw.
    for prop in schema.get("properties", {}).values():
        if "pattern" in prop and prop["pattern"] not in PATTERNS:
            raise Unsupported(f"pattern {prop['pattern']!r}")
    required = set(schema.get("required", []))
    form = {}
    for name, prop in schema.get("properties", {}).items():
        if name in required or rng.random() < optional_share:
            form[name] = _value(name, prop, rng)
    return form
