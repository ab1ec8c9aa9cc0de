"""The benchmark data: reference catalogue, accounts, a generated catalogue of ~150,000 items and
1,000,000 cases. Each part is generated once, in one transaction, and recorded in ``bench_meta``; a
later run finds the marker and reuses the data (``--rebuild`` drops the database and starts again).

Generated rows go straight into the tables (COPY, ``INSERT … SELECT generate_series``): going
through the services would take hours for a million cases and is not what is being measured. The
rows still follow the product's rules where a benchmark reads them: search text is made by the
product's own ``search_text_for``, case numbers carry a valid check character, deadlines fall on
weekdays, statuses and timestamps agree with each other.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import random
import re
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from bench.env import log, meta_get, meta_set
from bench.forms import GIVEN, SURNAMES, Unsupported, form_for, person_name

# --- sizes ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    items_per_city: int
    cases: int
    reviewer_open: int
    reviewer_closed: int
    other_open_share: float
    bulk_citizens: int
    citizens: int  # accounts with real passwords and tokens, used by the submit benchmark

    def key(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True)


FULL = Sizes(
    items_per_city=3600,
    cases=1_000_000,
    reviewer_open=2000,
    reviewer_closed=40_000,
    other_open_share=0.12,
    bulk_citizens=5000,
    citizens=16,
)
QUICK = Sizes(
    items_per_city=60,
    cases=20_000,
    reviewer_open=300,
    reviewer_closed=2000,
    other_open_share=0.12,
    bulk_citizens=200,
    citizens=4,
)

REVIEWER_CITY = "320500"  # 苏州市: not in the reference data, so the submit benchmark never files cases there
REVIEWER_DEPT = "市场监督管理局"
REVIEWER_USERNAME = "bench_reviewer"
CITIZEN_PREFIX = "bench_citizen_"


# What this run had to make (label → seconds), so the report can say what a run's time included.
DONE: dict[str, float] = {}


def _timed(label: str):
    def deco(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            out = fn(*args, **kwargs)
            DONE[label] = time.perf_counter() - t0
            log(f"  {label}: {DONE[label]:.1f} s")
            return out

        return wrapper

    return deco


# --- reference data and accounts ------------------------------------------------------------------


@_timed("reference catalogue (tongban.catalogue.loader.reference_data_load)")
def ensure_reference() -> None:
    """The product's own loader; idempotent, so it runs every time and picks up data changes."""
    from tongban.catalogue.loader import reference_data_load

    reference_data_load()


def _id_number(body17: str) -> str:
    from stdnum.cn import ric

    # stdnum computes the check digit over a number that already has a (placeholder) last digit.
    return body17 + ric.calc_check_digit(body17 + "0")


@_timed("citizen accounts (tongban.accounts.services.citizen_register)")
def ensure_citizens(n: int) -> list:
    """``n`` citizens registered through the product's service (real password hashing)."""
    from tongban.accounts.models import User
    from tongban.accounts.services import citizen_register

    rng = random.Random(20260101)
    users = []
    for k in range(1, n + 1):
        username = f"{CITIZEN_PREFIX}{k:02d}"
        user = User.objects.filter(username=username).first()
        if user is None:
            born = date(1986, 1, 1) + timedelta(days=rng.randint(0, 365 * 18))
            district = rng.choice(["340102", "340103", "340104", "340111", "320102", "330106", "310101"])
            body = f"{district}{born:%Y%m%d}{k:03d}"
            user = citizen_register(
                username=username,
                password="Bench-" + uuid.uuid4().hex,
                real_name=person_name(rng),
                id_number=_id_number(body),
                phone=f"139{k:08d}",
            )
        users.append(user)
    return users


def ensure_reviewer():
    from tongban.accounts.models import User
    from tongban.accounts.services import staff_create
    from tongban.regions.models import Organisation

    user = User.objects.filter(username=REVIEWER_USERNAME).first()
    if user is not None:
        return user
    org = Organisation.objects.get(name=reviewer_org_name())
    return staff_create(
        username=REVIEWER_USERNAME,
        password="Bench-" + uuid.uuid4().hex,
        real_name="基准审批员",
        organisation=org,
        roles=["reviewer"],
    )


# --- the generated catalogue ----------------------------------------------------------------------

PREFIXES = ["", "{region}", "长三角", "个人", "企业", "港澳台居民", "外籍人员", "退役军人"]
SUFFIXES = [
    "",
    "（首次办理）",
    "（变更）",
    "（注销）",
    "（延续）",
    "（补办）",
    "（告知承诺制）",
    "（容缺受理）",
    "（跨省通办）",
    "（“一件事”集成办理）",
    "（网上办理）",
    "（窗口办理）",
    "（加急）",
    "（邮寄送达）",
    "（集中办理）",
]
DEPARTMENTS = [
    "市场监督管理局",
    "公安局交通警察支队",
    "公安局",
    "人力资源和社会保障局",
    "医疗保障局",
    "水务局",
    "住房公积金管理中心",
    "教育局",
    "司法局",
    "民政局",
]


def city_codes() -> list[tuple[str, str]]:
    """The 41 YRD cities as (code, name): 40 prefecture-level cities and 上海."""
    from tongban.regions.divisions import yrd_divisions
    from tongban.regions.models import MUNICIPALITIES

    return [(d.code, d.name) for d in yrd_divisions() if d.level == "city" or d.code in MUNICIPALITIES]


def reviewer_org_name() -> str:
    names = dict(city_codes())
    return names[REVIEWER_CITY] + REVIEWER_DEPT


def _department(authority_name: str) -> str:
    for dept in DEPARTMENTS:  # longest first where one contains another (公安局交通警察支队 before 公安局)
        if dept in authority_name:
            return dept
    return "市场监督管理局"


def _uscc(region: str, n: int) -> str:
    from stdnum.cn import uscc

    body = f"11{region}MB{n:07d}"
    return body + uscc.calc_check_digit(body)


def _organisations(cities: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """One authority per (city, department), reusing the reference organisation of that name."""
    from tongban.regions.models import Organisation

    existing = {o.name: o.pk for o in Organisation.objects.filter(kind="authority")}
    out, to_create = {}, []
    for ci, (code, name) in enumerate(cities):
        for di, dept in enumerate(DEPARTMENTS):
            org_name = name + dept
            if org_name in existing:
                out[(code, dept)] = existing[org_name]
            else:
                to_create.append(
                    (
                        (code, dept),
                        Organisation(
                            name=org_name,
                            uscc=_uscc(code, ci * 100 + di),
                            kind="authority",
                            region_id=code,
                            address=f"{name}政务服务中心",
                            phone="12345",
                            office_hours="周一至周五 9:00—17:00",
                        ),
                    )
                )
    if to_create:
        Organisation.objects.bulk_create([o for _, o in to_create])
        for key, org in to_create:
            out[key] = org.pk
    return out


def search_fields(name: str, keywords: list[str]) -> dict[str, str]:
    """The item's search columns, made by the product's own functions (whatever they are today)."""
    from tongban.catalogue import search
    from tongban.catalogue.models import ServiceItem

    out = {"search_text": search.search_text_for(name=name, keywords=keywords)}
    names = {f.name for f in ServiceItem._meta.concrete_fields}
    if hasattr(search, "name_keys") and {"name_pinyin", "name_initials"} <= names:
        out["name_pinyin"], out["name_initials"] = search.name_keys(name)
    return out


def _copy_value(field, value):
    """A model field's value as COPY wants it; a field the generator does not know gets its default."""
    from django.db import models

    if value is _DEFAULT:
        value = field.get_default()
    if isinstance(field, models.JSONField) and value is not None:
        return json.dumps(value, ensure_ascii=False)
    return value


_DEFAULT = object()


@contextlib.contextmanager
def _memoised_terms():
    """The product's ``terms_for``, memoised for a bulk run: keywords repeat across 150,000 items."""
    from tongban.catalogue import search

    original = search.terms_for
    search.terms_for = functools.lru_cache(maxsize=None)(original)
    try:
        yield
    finally:
        search.terms_for = original


@_timed("generated catalogue")
def _generate_catalogue(per_city: int) -> int:
    from django.db import connection, transaction
    from django.utils import timezone

    from tongban.catalogue.loader import read_reference_data
    from tongban.catalogue.models import ServiceItem
    from tongban.regions.models import Region

    ref_orgs, specs = read_reference_data()
    authority_names = {o.uscc: o.name for o in ref_orgs}
    # One base per distinct name, taken from the first city that has it.
    bases: dict[str, dict] = {}
    for spec in specs:
        dept = _department(authority_names.get(spec.authority_uscc, ""))
        bases.setdefault(spec.fields["name"], {**spec.fields, "_dept": dept})
    base_list = [bases[k] for k in sorted(bases)]
    cities = city_codes()
    rng = random.Random(41)
    now = timezone.now()
    fields = [f for f in ServiceItem._meta.concrete_fields if not f.primary_key]
    rows = 0
    with _memoised_terms(), transaction.atomic():
        orgs = _organisations(cities)
        districts: dict[str, list[tuple[str, str]]] = {}
        for r in Region.objects.filter(level="district").values_list("code", "name", "parent_id"):
            districts.setdefault(r[2], []).append((r[0], r[1]))
        with connection.cursor() as cursor:
            sql = f"COPY {ServiceItem._meta.db_table} ({', '.join(f.column for f in fields)}) FROM STDIN"
            with cursor.cursor.copy(sql) as copy:
                for code, name in cities:
                    regions = [(code, name), *sorted(districts.get(code, []))]
                    for row in _city_items(code, name, regions, base_list, per_city, orgs, rng, now):
                        copy.write_row([_copy_value(f, row.get(f.attname, _DEFAULT)) for f in fields])
                        rows += 1
            cursor.execute(f"ANALYZE {ServiceItem._meta.db_table}")
    return rows


def _city_items(code, city_name, regions, bases, per_city, orgs, rng, now):
    per_base = -(-per_city // len(bases))
    combos = [(pi, si) for pi in range(len(PREFIXES)) for si in range(len(SUFFIXES))]
    made = 0
    for bi, base in enumerate(bases):
        picks = []
        for region in regions:
            for pi, si in rng.sample(combos, min(len(combos), -(-per_base // len(regions)))):
                picks.append((region, pi, si))
        rng.shuffle(picks)
        for (region_code, region_name), pi, si in picks[:per_base]:
            if made >= per_city:
                return
            made += 1
            prefix = PREFIXES[pi].format(region=region_name)
            name = f"{prefix}{base['name']}{SUFFIXES[si]}"[:200]
            basic = f"9{bi:02d}{pi:02d}{si:02d}00000"
            keywords = list(base["keywords"])
            row = {
                "basic_code": basic,
                "implementation_code": f"{basic}{region_code}01",
                "version": 1,
                "status": "published",
                "name": name,
                "item_type": base["item_type"],
                "city_code": code,
                "legal_basis": base["legal_basis"],
                "legal_limit_days": base["legal_limit_days"],
                "promised_limit_days": base["promised_limit_days"],
                "fee": base["fee"],
                "conditions": base["conditions"],
                "process": base["process"],
                "location": f"{city_name}政务服务中心",
                "office_hours": "周一至周五 9:00—12:00，13:00—17:00",
                "phone": "12345",
                "subject_types": base["subject_types"],
                "modes": base["modes"],
                "keywords": keywords,
                "form_schema": base["form_schema"],
                **search_fields(name, keywords),
                "published_at": now,
                "created_at": now,
                "updated_at": now,
                "authority_id": orgs[(code, base["_dept"])],
                "region_id": region_code,
            }
            roll = rng.random()
            if roll < 0.02:
                # An earlier version still in the table: search must show only the current one.
                yield {**row, "public_id": uuid.uuid4()}
                yield {**row, "public_id": uuid.uuid4(), "version": 2}
            elif roll < 0.03:
                yield {**row, "public_id": uuid.uuid4(), "status": "withdrawn"}
            elif roll < 0.035:
                # A newer draft does not hide the published version.
                yield {**row, "public_id": uuid.uuid4()}
                yield {
                    **row,
                    "public_id": uuid.uuid4(),
                    "version": 2,
                    "status": "draft",
                    "published_at": None,
                }
            else:
                yield {**row, "public_id": uuid.uuid4()}


def _search_fingerprint() -> str:
    """Changes when the product's search functions or the item's columns change."""
    from tongban.catalogue.models import ServiceItem

    samples = [
        ("长三角内资有限公司设立登记（变更）", ["营业执照", "开办企业"]),
        ("社会保障卡申领", ["社保卡", "SSC"]),
    ]
    probe = {
        "fields": sorted(f.name for f in ServiceItem._meta.concrete_fields),
        "values": [search_fields(n, k) for n, k in samples],
    }
    return hashlib.sha256(json.dumps(probe, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]


@_timed("search columns of the generated items recomputed")
def _refresh_search_fields() -> int:
    """Recomputes the generated items' search columns with the product's current functions."""
    from django.db import connection, transaction

    from tongban.catalogue.models import ServiceItem

    table = ServiceItem._meta.db_table
    items = ServiceItem.objects.filter(implementation_code__startswith="9").values_list(
        "id", "name", "keywords"
    )
    columns = None
    with _memoised_terms(), transaction.atomic(), connection.cursor() as cursor:
        rows = []
        for pk, name, keywords in items.iterator(chunk_size=5000):
            values = search_fields(name, list(keywords or []))
            columns = columns or list(values)
            rows.append((pk, *(values[c] for c in columns)))
        if not rows:
            return 0
        cursor.execute(
            f"CREATE TEMP TABLE bench_search (id bigint, {', '.join(f'{c} text' for c in columns)}) ON COMMIT DROP"
        )
        with cursor.cursor.copy(f"COPY bench_search (id, {', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        sets = ", ".join(f"{c} = b.{c}" for c in columns)
        cursor.execute(f"UPDATE {table} t SET {sets} FROM bench_search b WHERE t.id = b.id")
    # Every row was rewritten: without a VACUUM the table holds as many dead rows as live ones and
    # the trigram index a long pending list, and the search benchmark measured those (33 instead
    # of 8 ms in PostgreSQL for 营业) until autovacuum came by.
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {table}")
    return len(rows)


def ensure_catalogue(url: str, sizes: Sizes) -> None:
    from tongban.catalogue.models import ServiceItem

    key = json.dumps({"items_per_city": sizes.items_per_city})
    marker = meta_get(url, "catalogue")
    if marker == key:
        log(f"  generated catalogue: reused ({ServiceItem.objects.count():,} item rows)")
        fingerprint = _search_fingerprint()
        if meta_get(url, "search_fingerprint") != fingerprint:
            # The product's search columns changed since the data was made: redo them with today's code.
            _refresh_search_fields()
            meta_set(url, "search_fingerprint", fingerprint)
        return
    if marker is not None:
        raise SystemExit(
            f"the benchmark database holds a catalogue of another size ({marker}); run with --rebuild"
        )
    rows = _generate_catalogue(sizes.items_per_city)
    meta_set(url, "catalogue", key)
    meta_set(url, "search_fingerprint", _search_fingerprint())
    log(f"  generated catalogue: {rows:,} item rows")


# --- the cases ------------------------------------------------------------------------------------

# ISO 7064 MOD 11-2 over the 20-digit body of a case number (see tongban.cases.numbering).
_WEIGHTS = [pow(2, 20 - i, 11) for i in range(20)]
_CHECK = (
    "substr('10X98765432', (("
    + " + ".join(f"substr(body, {i + 1}, 1)::int * {w}" for i, w in enumerate(_WEIGHTS))
    + ") %% 11) + 1, 1)"
)

CASE_SQL = """
WITH g AS (
    SELECT i, (i::bigint * 7919) %% %(n)s AS rv, random() AS r_item, random() AS r_open, random() AS r_status,
           random() AS r_time, random() AS r_due, random() AS r_app, random() AS r_chan
    FROM generate_series(0, %(n)s - 1) AS i
), c AS (
    SELECT g.*,
           (g.rv < %(rv_total)s) AS for_reviewer,
           CASE WHEN g.rv < %(rv_total)s THEN g.rv < %(rv_open)s ELSE g.r_open < %(open_share)s END AS is_open,
           coalesce(ri.id, oi.id) AS item_id, coalesce(ri.authority_id, oi.authority_id) AS org_id,
           coalesce(ri.city_code, oi.city_code) AS city_code
    FROM g
    LEFT JOIN bench_rv_items ri ON g.rv < %(rv_total)s AND ri.n = floor(g.r_item * %(n_rv_items)s)::int
    LEFT JOIN bench_other_items oi ON g.rv >= %(rv_total)s AND oi.n = floor(g.r_item * %(n_other_items)s)::int
), s AS (
    SELECT c.*,
        CASE WHEN is_open THEN
            CASE WHEN r_status < 0.30 THEN 'submitted' WHEN r_status < 0.50 THEN 'accepted'
                 WHEN r_status < 0.78 THEN 'under_review' WHEN r_status < 0.86 THEN 'correction'
                 WHEN r_status < 0.90 THEN 'special_procedure' ELSE 'approved' END
        ELSE
            CASE WHEN r_status < 0.70 THEN 'issued' WHEN r_status < 0.76 THEN 'denied'
                 WHEN r_status < 0.86 THEN 'rejected_intake' ELSE 'withdrawn' END
        END AS status,
        CASE WHEN is_open THEN date_trunc('second', now()) - interval '1 day' - r_time * interval '60 days'
             ELSE date_trunc('second', now()) - interval '70 days' - r_time * interval '660 days' END AS submitted,
        (r_chan < 0.25) AS by_window
    FROM c
), t AS (
    SELECT s.*,
        CASE WHEN status IN ('accepted', 'under_review', 'special_procedure', 'approved', 'issued', 'denied')
             THEN submitted + (1 + r_due * 3) * interval '1 day' END AS accepted,
        CASE WHEN status IN ('approved', 'issued', 'denied', 'rejected_intake', 'withdrawn')
             THEN least(submitted + (5 + r_due * 20) * interval '1 day', now() - interval '1 hour') END AS decided,
        CASE WHEN is_open THEN current_date + floor(r_due * 40 - 6)::int
             ELSE (submitted AT TIME ZONE 'Asia/Shanghai')::date + 5 + floor(r_due * 20)::int END AS due0,
        (CASE WHEN by_window THEN coalesce(w.city_code, s.city_code) ELSE s.city_code END)
            || to_char(submitted AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD')
            || lpad((i %% 1000000)::text, 6, '0') AS body,
        w.id AS window_id
    FROM s LEFT JOIN bench_windows w ON s.by_window AND w.n = floor(s.r_chan * 4 * %(n_windows)s)::int
)
INSERT INTO cases_case (
    public_id, number, item_id, handling_org_id, receiving_node, handling_node, mode, channel, status,
    applicant_id, applicant_name, applicant_id_type, applicant_id_enc, applicant_id_hash, applicant_phone_enc,
    intake_clerk_id, intake_org_id, form_data, submitted_at, accepted_at, decided_at, due_date, due_provisional,
    paused_workdays, paused_since, status_before_pause, decision_reason, client_token, created_at, updated_at
    {extra_columns})
SELECT
    gen_random_uuid(), body || {check}, item_id, org_id, substr(body, 1, 6), city_code,
    CASE WHEN by_window THEN 'proxy_intake' ELSE 'full_online' END,
    CASE WHEN by_window THEN 'window' ELSE 'online' END,
    status,
    bc.id,
    (%(surnames)s::text[])[1 + (i * 31) %% %(n_surnames)s] || (%(given)s::text[])[1 + (i * 17) %% %(n_given)s]
        || CASE WHEN i %% 3 = 0 THEN '' ELSE (%(given)s::text[])[1 + (i * 13) %% %(n_given)s] END,
    'ric', %(id_enc)s, md5(i::text || 'a') || md5(i::text || 'b'), '',
    NULL, window_id,
    (%(forms)s::jsonb[])[1 + i %% %(n_forms)s],
    submitted, accepted, decided,
    due0 + CASE extract(isodow FROM due0) WHEN 6 THEN 2 WHEN 7 THEN 1 ELSE 0 END,
    false,
    CASE WHEN status IN ('accepted', 'under_review', 'approved', 'issued', 'denied') THEN floor(r_due * 3)::int
         ELSE 0 END,
    CASE WHEN status IN ('correction', 'special_procedure') THEN current_date - floor(r_time * 10)::int END,
    CASE status WHEN 'correction' THEN 'submitted' WHEN 'special_procedure' THEN 'under_review' ELSE '' END,
    CASE status WHEN 'denied' THEN '不符合法定条件。' WHEN 'rejected_intake' THEN '不属于本机关职权范围。' ELSE '' END,
    '', submitted, coalesce(decided, accepted, submitted)
    {extra_values}
FROM t LEFT JOIN bench_citizens bc ON NOT (t.by_window AND t.r_app < 0.5)
    AND bc.n = floor(t.r_app * %(n_citizens)s)::int
""".replace("{check}", _CHECK)


def _plain_indexes(cursor, table: str) -> list[tuple[str, str]]:
    """(name, definition) of the table's indexes that no constraint owns: safe to drop and recreate."""
    cursor.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.tablename = %s AND i.schemaname = current_schema()
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        """,
        [table],
    )
    return cursor.fetchall()


@_timed("cases")
def _generate_cases(sizes: Sizes) -> int:
    from django.db import connection, transaction

    from tongban.cases.models import Case
    from tongban.catalogue.models import ServiceItem
    from tongban.core import pii
    from tongban.regions.models import Organisation

    reviewer_org = Organisation.objects.get(name=reviewer_org_name())
    rng = random.Random(7)
    forms = []
    for item in ServiceItem.objects.filter(implementation_code__startswith="0").order_by("id")[:40]:
        try:
            forms.append(json.dumps(form_for(item.form_schema, rng), ensure_ascii=False))
        except Unsupported:
            continue
    if not forms:
        forms = ["{}"]
    params = {
        "n": sizes.cases,
        "rv_total": sizes.reviewer_open + sizes.reviewer_closed,
        "rv_open": sizes.reviewer_open,
        "open_share": sizes.other_open_share,
        "surnames": list(SURNAMES),
        "n_surnames": len(SURNAMES),
        "given": list(GIVEN),
        "n_given": len(GIVEN),
        "forms": forms,
        "n_forms": len(forms),
        "id_enc": pii.encrypt(_id_number("34010219900307123"), purpose="id_number"),
    }
    sql = _with_defaults(CASE_SQL, Case, params)
    if sizes.cases > 1_000_000:
        raise ValueError(
            "case numbers of generated rows use i % 1,000,000 as sequence: at most 1,000,000 cases"
        )
    with transaction.atomic(), connection.cursor() as cursor:
        current = (
            "NOT EXISTS (SELECT 1 FROM catalogue_serviceitem n WHERE n.implementation_code = s.implementation_code "
            "AND n.version > s.version AND n.status <> 'draft') AND s.status = 'published'"
        )
        cursor.execute(
            "CREATE TEMP TABLE bench_rv_items ON COMMIT DROP AS SELECT (row_number() OVER (ORDER BY id)) - 1 AS n, "
            f"id, authority_id, city_code FROM catalogue_serviceitem s WHERE authority_id = %s AND {current}",
            [reviewer_org.pk],
        )
        cursor.execute(
            "CREATE TEMP TABLE bench_other_items ON COMMIT DROP AS SELECT (row_number() OVER (ORDER BY id)) - 1 AS n, "
            f"id, authority_id, city_code FROM catalogue_serviceitem s WHERE authority_id <> %s AND {current}",
            [reviewer_org.pk],
        )
        cursor.execute(
            "CREATE TEMP TABLE bench_windows ON COMMIT DROP AS SELECT (row_number() OVER (ORDER BY o.id)) - 1 AS n, "
            "o.id, CASE WHEN left(o.region_id, 2) IN ('11', '12', '31', '50') THEN left(o.region_id, 2) || '0000' "
            "ELSE left(o.region_id, 4) || '00' END AS city_code FROM regions_organisation o WHERE o.kind = 'window'"
        )
        cursor.execute(
            "CREATE TEMP TABLE bench_citizens ON COMMIT DROP AS SELECT (row_number() OVER (ORDER BY id)) - 1 AS n, id "
            "FROM accounts_user WHERE username LIKE 'bulk_citizen_%%'"
        )
        for table in ("bench_rv_items", "bench_other_items", "bench_windows", "bench_citizens"):
            cursor.execute(f"CREATE INDEX ON {table} (n)")
            cursor.execute(f"ANALYZE {table}")
        counts = {}
        for table in ("bench_rv_items", "bench_other_items", "bench_windows", "bench_citizens"):
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
        if not counts["bench_rv_items"] or not counts["bench_other_items"] or not counts["bench_citizens"]:
            raise RuntimeError(f"nothing to generate cases from: {counts}")
        params.update(
            n_rv_items=counts["bench_rv_items"],
            n_other_items=counts["bench_other_items"],
            n_windows=max(counts["bench_windows"], 1),
            n_citizens=counts["bench_citizens"],
        )
        # Bulk load: drop the plain indexes, insert, build them again (much faster than maintaining them).
        indexes = _plain_indexes(cursor, "cases_case")
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        # Check the foreign keys row by row now rather than at commit, so the indexes can be built.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        cursor.execute(sql, params)
        inserted = cursor.rowcount
        for _, definition in indexes:
            cursor.execute(definition)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE cases_case")
    return inserted


def _with_defaults(sql: str, table_model, params: dict) -> str:
    """Adds to ``INSERT INTO t (…) SELECT …`` the columns the product added since it was written,
    with their model defaults (the SELECT list must end with ``{extra_values}``)."""
    head = re.search(r"INSERT INTO \w+ \(([^)]*)\)", sql).group(1)
    known = set(re.findall(r"\w+", head))
    extra = [f for f in table_model._meta.concrete_fields if not f.primary_key and f.column not in known]
    for n, f in enumerate(extra):
        params[f"extra_{n}"] = _copy_value(f, _DEFAULT)
    return sql.replace("{extra_columns}", "".join(f", {f.column}" for f in extra)).replace(
        "{extra_values}", "".join(f", %(extra_{n})s" for n in range(len(extra)))
    )


@_timed("bulk citizen accounts")
def _generate_bulk_citizens(n: int) -> None:
    from django.db import connection, transaction

    from tongban.accounts.models import User

    params = {"n": n, "surnames": list(SURNAMES), "ns": len(SURNAMES), "given": list(GIVEN), "ng": len(GIVEN)}
    sql = _with_defaults(
        """
        INSERT INTO accounts_user (password, last_login, is_superuser, username, first_name, last_name, email,
            is_staff, is_active, date_joined, public_id, kind, real_name, id_number_enc, id_number_hash, phone_enc,
            phone_hash, realname_verified_at, roles, failed_logins, locked_until, large_text, organisation_id
            {extra_columns})
        SELECT '!', NULL, false, 'bulk_citizen_' || lpad(i::text, 6, '0'), '', '', '', false, true, now(),
            gen_random_uuid(), 'citizen', (%(surnames)s::text[])[1 + (i * 7) %% %(ns)s]
                || (%(given)s::text[])[1 + (i * 11) %% %(ng)s], '', md5(i::text || 'bulk') || md5(i::text),
            '', '', now(), '[]'::jsonb, 0, NULL, false, NULL {extra_values}
        FROM generate_series(1, %(n)s) AS i
        """,
        User,
        params,
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def ensure_cases(url: str, sizes: Sizes) -> None:
    from tongban.cases.models import Case

    key = json.dumps(
        {
            "cases": sizes.cases,
            "reviewer_open": sizes.reviewer_open,
            "reviewer_closed": sizes.reviewer_closed,
            "bulk_citizens": sizes.bulk_citizens,
        }
    )
    marker = meta_get(url, "cases")
    if marker == key:
        log(f"  cases: reused ({Case.objects.count():,} rows)")
        return
    if marker is not None:
        raise SystemExit(f"the benchmark database holds cases of another size ({marker}); run with --rebuild")
    if not meta_get(url, "bulk_citizens"):
        _generate_bulk_citizens(sizes.bulk_citizens)
        meta_set(url, "bulk_citizens", str(sizes.bulk_citizens))
    inserted = _generate_cases(sizes)
    meta_set(url, "cases", key)
    log(f"  cases: {inserted:,} rows generated")


def ensure_all(url: str, sizes: Sizes, *, need_cases: bool, need_catalogue: bool) -> None:
    ensure_reference()
    if need_catalogue or need_cases:
        ensure_catalogue(url, sizes)
    if need_cases:
        ensure_cases(url, sizes)
