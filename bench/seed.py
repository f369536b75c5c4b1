"""Throwaway deployments seeded fast at scale, for the search and recompute benches.

    from bench.seed import deployment, seed_customers, seed_purchases

    with deployment("postgresql://postgres@127.0.0.1:5432/test") as dep:  # or None: SQLite
        seed_customers(dep, 1_000_000)
        seed_purchases(dep, 5_000_000)
        ...  # dep.url, dep.env (for gunicorn), dep.token (admin API token)

A deployment is a private PostgreSQL schema (dropped afterwards) or a SQLite file in a temporary
directory, with the tables made by ``db.create_all()``, the first-run state and an admin with an
API token. Rows are written through the database driver in bulk (PostgreSQL ``COPY``, SQLite
``executemany``) with the secondary indexes dropped during the load and rebuilt after it, then
the tables are analysed.

The customers look like an Iranian company's: Persian first and last names (some typed with
the Arabic ي and ك, as from an Arabic keyboard), organisations with legal names, national
codes and ids with valid check digits, canonical mobiles (+989...), emails, phones, provinces
and cities, tags. Their ``search_key`` is computed by ``core.customers.keys.search_key_for``
itself, on the contact points in the order the ORM loads them, so it is exactly what the
application would store. Purchases follow a buy-till-you-die pattern (each customer buys at
its own rate until it drops out), so the CLV fit has something to find.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import quote

import numpy as np
from sqlalchemy import create_engine, text

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
ADMIN_EMAIL = "bench-admin@example.ir"
ADMIN_PASSWORD = "bench-password-123"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)  # fixed, so runs are comparable
HISTORY_DAYS = 3 * 365
CHUNK = 20_000

# --- vocabulary ------------------------------------------------------------------------------

MALE = [
    ("محمد", "mohammad"), ("علی", "ali"), ("حسین", "hossein"), ("رضا", "reza"),
    ("مهدی", "mahdi"), ("امیر", "amir"), ("حسن", "hasan"), ("سعید", "saeed"),
    ("مجید", "majid"), ("حمید", "hamid"), ("احمد", "ahmad"), ("مصطفی", "mostafa"),
    ("جواد", "javad"), ("محسن", "mohsen"), ("امیرحسین", "amirhossein"),
    ("محمدرضا", "mohammadreza"), ("علیرضا", "alireza"), ("ابوالفضل", "abolfazl"),
    ("سجاد", "sajjad"), ("میلاد", "milad"), ("یاسر", "yaser"), ("کاظم", "kazem"),
    ("فرهاد", "farhad"), ("بهروز", "behrouz"), ("داریوش", "dariush"), ("کوروش", "kourosh"),
    ("آرش", "arash"), ("بابک", "babak"), ("پیمان", "peyman"), ("رامین", "ramin"),
    ("سینا", "sina"), ("پویا", "pouya"), ("عرفان", "erfan"), ("ماهان", "mahan"),
    ("آرین", "arian"), ("یوسف", "yousef"), ("یعقوب", "yaghoub"), ("اکبر", "akbar"),
    ("نادر", "nader"), ("کامران", "kamran"), ("کیوان", "keyvan"), ("شهرام", "shahram"),
    ("بهزاد", "behzad"), ("مسعود", "masoud"), ("منصور", "mansour"), ("ناصر", "naser"),
    ("هادی", "hadi"), ("وحید", "vahid"), ("صادق", "sadegh"), ("مرتضی", "morteza"),
    ("مجتبی", "mojtaba"), ("حامد", "hamed"), ("عباس", "abbas"), ("سامان", "saman"),
    ("نیما", "nima"), ("امید", "omid"), ("محمدحسین", "mohammadhossein"), ("کیانوش", "kianoush"),
]
FEMALE = [
    ("فاطمه", "fatemeh"), ("زهرا", "zahra"), ("مریم", "maryam"), ("زینب", "zeinab"),
    ("معصومه", "masoumeh"), ("سمیرا", "samira"), ("نرگس", "narges"), ("لیلا", "leila"),
    ("الهام", "elham"), ("سارا", "sara"), ("نازنین", "nazanin"), ("مهسا", "mahsa"),
    ("مینا", "mina"), ("شیرین", "shirin"), ("پریسا", "parisa"), ("ساناز", "sanaz"),
    ("نگار", "negar"), ("فرزانه", "farzaneh"), ("مهناز", "mahnaz"), ("طاهره", "tahereh"),
    ("اکرم", "akram"), ("رقیه", "roghayeh"), ("هانیه", "haniyeh"), ("یاسمن", "yasaman"),
    ("آزاده", "azadeh"), ("نسرین", "nasrin"), ("ژاله", "zhaleh"), ("پروین", "parvin"),
    ("کیمیا", "kimia"), ("ستاره", "setareh"), ("محدثه", "mohaddeseh"), ("فرشته", "fereshteh"),
    ("عاطفه", "atefeh"), ("راحله", "raheleh"), ("ریحانه", "reyhaneh"), ("یگانه", "yeganeh"),
    ("هستی", "hasti"), ("آیدا", "aida"), ("بهاره", "bahareh"), ("سپیده", "sepideh"),
    ("مرجان", "marjan"), ("شیما", "shima"), ("ترانه", "taraneh"), ("فاطمه‌زهرا", "fatemezahra"),
]
LAST = [
    ("محمدی", "mohammadi"), ("حسینی", "hosseini"), ("احمدی", "ahmadi"), ("رضایی", "rezaei"),
    ("کریمی", "karimi"), ("موسوی", "mousavi"), ("جعفری", "jafari"), ("صادقی", "sadeghi"),
    ("رحیمی", "rahimi"), ("قاسمی", "ghasemi"), ("هاشمی", "hashemi"), ("اکبری", "akbari"),
    ("نوری", "nouri"), ("کاظمی", "kazemi"), ("ابراهیمی", "ebrahimi"), ("عباسی", "abbasi"),
    ("مرادی", "moradi"), ("حیدری", "heidari"), ("محمدی‌نژاد", "mohammadinejad"),
    ("سلطانی", "soltani"), ("ملکی", "maleki"), ("یوسفی", "yousefi"), ("شریفی", "sharifi"),
    ("فتحی", "fathi"), ("باقری", "bagheri"), ("زارعی", "zarei"), ("امینی", "amini"),
    ("نجفی", "najafi"), ("طاهری", "taheri"), ("خسروی", "khosravi"), ("فرهادی", "farhadi"),
    ("کیانی", "kiani"), ("شیرازی", "shirazi"), ("تهرانی", "tehrani"), ("اصفهانی", "esfahani"),
    ("تبریزی", "tabrizi"), ("کرمانی", "kermani"), ("یزدانی", "yazdani"), ("قربانی", "ghorbani"),
    ("بهرامی", "bahrami"), ("اسدی", "asadi"), ("میرزایی", "mirzaei"), ("رستمی", "rostami"),
    ("نظری", "nazari"), ("علوی", "alavi"), ("مختاری", "mokhtari"), ("پورمحمدی", "pourmohammadi"),
    ("علیزاده", "alizadeh"), ("حسن‌زاده", "hasanzadeh"), ("رضازاده", "rezazadeh"),
    ("قلی‌پور", "gholipour"), ("ولی‌پور", "valipour"), ("امیری", "amiri"), ("صفری", "safari"),
    ("توکلی", "tavakoli"), ("سبحانی", "sobhani"), ("فراهانی", "farahani"),
    ("منصوری", "mansouri"), ("پاکزاد", "pakzad"), ("دهقان", "dehghan"), ("کشاورز", "keshavarz"),
    ("آهنگر", "ahangar"), ("زرگر", "zargar"), ("بازرگان", "bazargan"), ("افشار", "afshar"),
    ("شاکری", "shakeri"), ("وکیلی", "vakili"), ("دانشور", "daneshvar"), ("مهرابی", "mehrabi"),
    ("نیک‌نام", "niknam"), ("خوش‌نویس", "khoshnevis"), ("روحانی", "rouhani"),
    ("سعیدی", "saeedi"), ("جلالی", "jalali"), ("کمالی", "kamali"), ("جمالی", "jamali"),
    ("عسگری", "asgari"), ("اسماعیلی", "esmaeili"), ("یعقوبی", "yaghoubi"), ("حاتمی", "hatami"),
    ("نادری", "naderi"), ("بیگی", "beigi"), ("سلیمانی", "soleimani"), ("لطفی", "lotfi"),
    ("غفاری", "ghaffari"), ("رحمانی", "rahmani"), ("کرمی", "karami"), ("بابایی", "babaei"),
    ("عزیزی", "azizi"), ("اکبرزاده", "akbarzadeh"), ("تقوی", "taghavi"), ("مقدم", "moghaddam"),
    ("حسینی‌فر", "hosseinifar"), ("کاظم‌پور", "kazempour"), ("میرباقری", "mirbagheri"),
]
# (province, city, weight): the big cities hold most customers, as in most Iranian CRMs
CITIES = [
    ("تهران", "تهران", 30), ("تهران", "شهریار", 2), ("تهران", "اسلامشهر", 2),
    ("البرز", "کرج", 6), ("اصفهان", "اصفهان", 7), ("اصفهان", "کاشان", 2),
    ("اصفهان", "نجف‌آباد", 1), ("خراسان رضوی", "مشهد", 8), ("خراسان رضوی", "نیشابور", 1),
    ("فارس", "شیراز", 6), ("فارس", "مرودشت", 1), ("آذربایجان شرقی", "تبریز", 5),
    ("آذربایجان غربی", "ارومیه", 2), ("قم", "قم", 3), ("خوزستان", "اهواز", 3),
    ("خوزستان", "دزفول", 1), ("کرمانشاه", "کرمانشاه", 2), ("گیلان", "رشت", 2),
    ("گیلان", "بندر انزلی", 1), ("مازندران", "ساری", 1), ("مازندران", "بابل", 1),
    ("مازندران", "آمل", 1), ("یزد", "یزد", 2), ("کرمان", "کرمان", 2), ("کرمان", "رفسنجان", 1),
    ("همدان", "همدان", 1), ("هرمزگان", "بندرعباس", 1), ("هرمزگان", "کیش", 1),
    ("گلستان", "گرگان", 1), ("زنجان", "زنجان", 1), ("قزوین", "قزوین", 1), ("مرکزی", "اراک", 1),
    ("اردبیل", "اردبیل", 1), ("لرستان", "خرم‌آباد", 1), ("سمنان", "سمنان", 1),
    ("بوشهر", "بوشهر", 1), ("کردستان", "سنندج", 1),
]
STREETS = ["ولیعصر", "آزادی", "انقلاب", "شریعتی", "طالقانی", "امام خمینی", "فردوسی",
           "حافظ", "سعدی", "مطهری", "بهشتی", "جمهوری", "کشاورز", "پاسداران", "نیاوران"]
ORG_KIND = ["شرکت بازرگانی", "شرکت صنایع", "شرکت تولیدی", "شرکت پخش", "شرکت مهندسی",
            "گروه صنعتی", "شرکت فن‌آوران", "فروشگاه‌های زنجیره‌ای", "شرکت حمل‌ونقل"]
ORG_NAME = ["پارس", "آریا", "سپاهان", "البرز", "کوثر", "نوین", "فولاد", "سپید", "ماهان",
            "رایان", "پویش", "آسیا", "خلیج فارس", "دماوند", "زاگرس", "کاوه", "مهر", "آفتاب",
            "ستاره", "ایرانیان", "نگین", "پردیس", "کیان", "آرمان", "سپهر", "بهار", "الماس"]
ORG_FORM = ["(سهامی خاص)", "(سهامی عام)", "(با مسئولیت محدود)", "", ""]
ORG_LATIN = ["pars", "aria", "sepahan", "alborz", "kowsar", "novin", "foolad", "sepid", "mahan",
             "rayan", "pouyesh", "asia", "khalijfars", "damavand", "zagros", "kaveh", "mehr",
             "aftab", "setareh", "iranian", "negin", "pardis", "kian", "arman", "sepehr",
             "bahar", "almas"]
SOURCES = ["", "", "نمایشگاه", "وب‌سایت", "معرفی مشتری", "اینستاگرام", "تماس ورودی",
           "بازاریابی تلفنی"]
TAGS = ["VIP", "عمده‌فروش", "نمایشگاه تهران ۱۴۰۳", "مشتری وفادار", "بدحساب", "همکار",
        "شمال", "خرید اقساطی"]
MOBILE_PREFIXES = ["912", "912", "912", "935", "936", "937", "919", "910", "911", "913", "914",
                   "915", "916", "917", "918", "901", "902", "903", "930", "933", "938", "939",
                   "990", "991", "921", "922"]
EMAIL_DOMAINS = ["gmail.com", "gmail.com", "yahoo.com", "chmail.ir", "mail.ir", "outlook.com"]
AREA_CODES = ["21", "21", "21", "26", "31", "51", "71", "41", "25", "61", "13", "35", "34"]


def _arabic_typed(text: str) -> str:
    """How the name looks when typed on an Arabic keyboard (ي and ك)."""
    return text.replace("ی", "ي").replace("ک", "ك")


def national_code(rng: random.Random) -> str:
    """A random national code with a valid check digit (not all digits the same)."""
    while True:
        first = f"{rng.randrange(10 ** 9):09d}"
        remainder = sum(int(d) * (10 - i) for i, d in enumerate(first)) % 11
        code = first + str(remainder if remainder < 2 else 11 - remainder)
        if len(set(code)) > 1:
            return code


def legal_national_id(rng: random.Random) -> str:
    """A random organisation national id (شناسه ملی) with a valid check digit."""
    weights = (29, 27, 23, 19, 17, 29, 27, 23, 19, 17)
    while True:
        first = f"{rng.randrange(10 ** 10):010d}"
        if first[3:9] == "000000":
            continue
        shift = int(first[9]) + 2
        remainder = sum((int(d) + shift) * w for d, w in zip(first, weights, strict=True)) % 11
        return first + str(0 if remainder == 10 else remainder)


def mobile_for(customer_id: int, second: bool = False) -> str:
    """A canonical mobile, unique per customer id (an injective scramble of the id)."""
    n = customer_id + (5_000_000 if second else 0)
    prefix = MOBILE_PREFIXES[(n * 2654435761) % len(MOBILE_PREFIXES)]
    return f"+98{prefix}{(n * 7919 + 1234567) % 10_000_000:07d}"


# --- deployments -----------------------------------------------------------------------------

@dataclass
class Deployment:
    """A throwaway database with the application's tables, an admin and its API token."""

    url: str  # SQLAlchemy URL (PostgreSQL: the private schema is on the search path)
    dialect: str
    schema: str | None
    instance: str
    token: str = ""
    admin_id: int = 0
    env: dict = field(default_factory=dict)  # for gunicorn / flask: DATABASE_URL etc.

    def engine(self, **options):
        return create_engine(self.url, **options)

    def app(self):
        """The real application bound to this database (configured like the served one)."""
        from core import create_app

        return create_app(None, SQLALCHEMY_DATABASE_URI=self.url, SECRET_KEY="bench-secret",
                          CRM_UPLOAD_DIR=os.path.join(self.instance, "uploads"))


def replay(raw, batch) -> tuple[float, int]:
    """Run captured ``(statement, parameters)`` on a raw DB-API connection: the bare query
    through the same driver, the ceiling a page is measured against. Returns (seconds, rows)."""
    cursor = raw.cursor()
    begun = time.perf_counter()
    fetched = 0
    for statement, parameters in batch:
        cursor.execute(statement, parameters)
        if cursor.description is not None:
            fetched += len(cursor.fetchall())
    took = time.perf_counter() - begun
    raw.rollback()
    return took, fetched


def _pg_url(database_url: str) -> str:
    from config import _normalise_db_url

    return _normalise_db_url(database_url)


def _trigram_schema(conn) -> str | None:
    return conn.execute(text(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'")).scalar()


EXTENSION_SCHEMA = "bench_ext"  # holds pg_trgm only, so it can sit on every search path


@contextmanager
def deployment(database_url: str | None = None, keep: bool = False) -> Iterator[Deployment]:
    """A fresh deployment: a private schema on ``database_url``, or SQLite when it is None.

    On PostgreSQL the extension pg_trgm is put on the search path when the server has it:
    where the database already has it (a schema without tables, such as public), or else
    created in the schema ``bench_ext``, which holds nothing else and is dropped with the last
    bench schema.
    """
    instance = tempfile.mkdtemp(prefix="peyvand-bench-")
    schema = None
    if database_url:
        base = _pg_url(database_url)
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        engine = create_engine(base, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            path = [schema]
            where = _trigram_schema(conn)
            if where is None and conn.execute(text(
                    "SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")).scalar():
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{EXTENSION_SCHEMA}"'))
                conn.execute(text(f'CREATE EXTENSION IF NOT EXISTS pg_trgm '
                                  f'SCHEMA "{EXTENSION_SCHEMA}"'))
                where = _trigram_schema(conn)
            tables = where and conn.execute(text(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = :s"),
                {"s": where}).scalar()
            if where and tables:
                print(f"pg_trgm lives in schema {where}, which has tables: left off the search "
                      "path (the bench's tables would be confused with them)")
            elif where:
                path.append(where)
        engine.dispose()
        url = base + ("&" if "?" in base else "?") + "options=" + quote(
            "-csearch_path=" + ",".join(path), safe="")
        dialect = "postgresql"
    else:
        url = f"sqlite:///{instance}/bench.db"
        dialect = "sqlite"
    dep = Deployment(url=url, dialect=dialect, schema=schema, instance=instance)
    dep.env = {"DATABASE_URL": url, "SECRET_KEY": "bench-secret",
               "CRM_INSTANCE_PATH": instance, "CRM_UPLOAD_DIR": os.path.join(instance, "uploads")}
    try:
        _create_schema(dep)
        yield dep
    finally:
        if keep:
            print(f"kept: {dep.url}")
        else:
            _drop(dep, database_url)


def _create_schema(dep: Deployment) -> None:
    from core.admin.services import create_or_update_user
    from core.api.tokens import create_token
    from core.bootstrap import ensure_deployment
    from core.extensions import db

    app = dep.app()
    with app.app_context():
        db.create_all()
        ensure_deployment()
        user = create_or_update_user(email=ADMIN_EMAIL, password=ADMIN_PASSWORD,
                                     role_name="admin", name="Bench admin", seats=[])
        _token, secret = create_token(user, "bench", ("read", "write"))
        db.session.commit()
        dep.token, dep.admin_id = secret, user.id
        db.session.remove()
        db.engine.dispose()


def _drop(dep: Deployment, database_url: str | None) -> None:
    if dep.schema:
        engine = create_engine(_pg_url(database_url), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{dep.schema}" CASCADE'))
            others = conn.execute(text("SELECT count(*) FROM pg_namespace WHERE nspname LIKE "
                                       "'bench\\_%' AND nspname <> :ext"),
                                  {"ext": EXTENSION_SCHEMA}).scalar()
            if not others:  # the last bench out takes the extension with it
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{EXTENSION_SCHEMA}" CASCADE'))
        engine.dispose()
    shutil.rmtree(dep.instance, ignore_errors=True)


# --- bulk loading ----------------------------------------------------------------------------

def _sqlite_value(value):
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's storage format
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def _pg_value(value):
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


class Loader:
    """Bulk rows into the deployment's tables through the driver, indexes rebuilt at the end."""

    def __init__(self, dep: Deployment):
        from core.extensions import db

        self.dep = dep
        self.metadata = db.metadata
        self.engine = dep.engine()
        self.raw = self.engine.raw_connection()
        self.conn = self.raw.driver_connection
        cur = self.conn.cursor()
        if dep.dialect == "postgresql":
            cur.execute("SET TIME ZONE 'UTC'")
            cur.execute("SET synchronous_commit = off")
            cur.execute("SET maintenance_work_mem = '512MB'")
            try:  # skip foreign-key triggers while loading rows that are consistent by design
                cur.execute("SET session_replication_role = replica")
            except Exception:  # noqa: BLE001 - not a superuser: keep the checks
                self.conn.rollback()
        else:
            cur.execute("PRAGMA foreign_keys = OFF")
            cur.execute("PRAGMA synchronous = OFF")
        self.dropped: list[tuple[str, str]] = []

    def _extras(self, table: str, columns: list[str]) -> tuple[list[str], tuple]:
        """Columns the model has but the bench does not give: their default or NULL."""
        names, values = [], []
        for column in self.metadata.tables[table].columns:
            if column.name in columns or (column.primary_key and column.autoincrement):
                continue
            default = column.default
            if default is not None and default.is_scalar:
                value = default.arg
            elif default is not None and default.is_callable:
                value = default.arg(None)
            elif column.server_default is not None:
                continue
            elif column.nullable:
                value = None
            else:
                raise RuntimeError(f"{table}.{column.name} needs a value the bench does not know")
            names.append(column.name)
            values.append(value)
        return names, tuple(values)

    def drop_indexes(self, tables: Iterable[str]) -> None:
        """Drop the secondary (non-constraint) indexes of ``tables``; ``finish`` rebuilds them."""
        tables = list(tables)
        cur = self.conn.cursor()
        if self.dep.dialect == "postgresql":
            cur.execute(
                "SELECT indexname, indexdef FROM pg_indexes i WHERE schemaname = current_schema()"
                " AND tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c"
                " WHERE c.conname = i.indexname)", (tables,))
        else:
            marks = ",".join("?" * len(tables))
            cur.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                        f"AND sql IS NOT NULL AND tbl_name IN ({marks})", tables)
        found = cur.fetchall()
        for name, _ddl in found:
            cur.execute(f'DROP INDEX "{name}"')
        self.dropped.extend(found)
        self.conn.commit()

    def rows(self, table: str, columns: list[str], rows: Iterable[tuple]) -> int:
        """Append ``rows`` (tuples in ``columns`` order) to ``table``; returns the count."""
        extra_names, extra_values = self._extras(table, columns)
        names = ", ".join(f'"{c}"' for c in [*columns, *extra_names])
        count = 0
        if self.dep.dialect == "postgresql":
            cur = self.conn.cursor()
            with cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                extra = tuple(_pg_value(v) for v in extra_values)
                for row in rows:
                    copy.write_row(row + extra)
                    count += 1
        else:
            extra = tuple(_sqlite_value(v) for v in extra_values)
            marks = ", ".join("?" * (len(columns) + len(extra_names)))

            def converted():
                nonlocal count
                for row in rows:
                    count += 1
                    yield tuple(_sqlite_value(v) for v in row) + extra

            self.conn.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", converted())
        return count

    def commit(self) -> None:
        self.conn.commit()

    def finish(self, tables: Iterable[str]) -> None:
        """Rebuild the dropped indexes, fix the id sequences and analyse ``tables``."""
        cur = self.conn.cursor()
        for _name, ddl in self.dropped:
            cur.execute(ddl)
        self.dropped = []
        self.conn.commit()
        if self.dep.dialect == "postgresql":
            for table in tables:
                if "id" not in self.metadata.tables[table].columns:
                    continue
                cur.execute(f"SELECT pg_get_serial_sequence('{table}', 'id')")
                sequence = cur.fetchone()[0]
                if sequence:
                    cur.execute(f"SELECT setval('{sequence}', "
                                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)")
            self.conn.commit()
            self.conn.autocommit = True
            for table in tables:
                cur.execute(f"VACUUM ANALYZE {table}")
            self.conn.autocommit = False
        else:
            cur.execute("ANALYZE")
            self.conn.commit()

    def close(self) -> None:
        self.raw.close()
        self.engine.dispose()


# --- customers -------------------------------------------------------------------------------

CUSTOMER_COLUMNS = ["id", "kind", "display_name", "first_name", "last_name", "legal_name",
                    "national_code", "national_id", "economic_code", "birthday", "anniversary",
                    "source", "owner_id", "team_id", "consent_email", "consent_sms", "custom",
                    "search_key", "created_at", "updated_at"]
CONTACT_COLUMNS = ["customer_id", "kind", "value", "label", "primary"]
ADDRESS_COLUMNS = ["customer_id", "province", "city", "line", "postal_code"]
TAG_COLUMNS = ["customer_id", "tag_id"]
CUSTOMER_TABLES = ["core_customer", "core_contact_point", "core_address", "core_customer_tag"]


def _city_table():
    weights = np.array([w for *_x, w in CITIES], dtype=float)
    return np.cumsum(weights) / weights.sum()


def _customer_chunk(args) -> tuple[list, list, list, list]:
    """Rows for customers ``start`` .. ``stop - 1`` (deterministic in ``seed`` and ``start``)."""
    from core.customers.keys import search_key_for

    start, stop, n_total, seed, owner_id, n_tags = args
    rng = random.Random(seed * 1_000_003 + start)
    city_cdf = _city_table()
    customers, contacts, addresses, tags = [], [], [], []
    span = HISTORY_DAYS * 86400
    first_at = NOW - timedelta(days=HISTORY_DAYS)
    for cid in range(start, stop):
        created = first_at + timedelta(seconds=span * (cid - 1) / max(n_total, 1)
                                       + rng.random() * 60)
        arabic = rng.random() < 0.06
        org = rng.random() < 0.08
        emails, mobiles, phones = [], [], []
        if org:
            idx = rng.randrange(len(ORG_NAME))
            legal = f"{rng.choice(ORG_KIND)} {ORG_NAME[idx]} {rng.choice(ORG_NAME)}"
            legal = f"{legal} {rng.choice(ORG_FORM)}".strip()
            if arabic:
                legal = _arabic_typed(legal)
            first = last = ""
            display = legal
            ncode, nid = None, legal_national_id(rng)
            econ = nid if rng.random() < 0.6 else None
            birthday = anniversary = None
            if rng.random() < 0.9:
                phones.append(f"0{rng.choice(AREA_CODES)}{rng.randrange(10 ** 7, 10 ** 8)}")
            if rng.random() < 0.6:
                emails.append(f"info@{ORG_LATIN[idx]}{rng.randrange(1, 999)}.ir")
            if rng.random() < 0.4:
                mobiles.append(mobile_for(cid))
        else:
            (first, first_latin) = rng.choice(MALE if rng.random() < 0.55 else FEMALE)
            (last, last_latin) = rng.choice(LAST)
            if rng.random() < 0.05:  # a double-barrelled family name
                other = rng.choice(LAST)
                last, last_latin = f"{last} {other[0]}", last_latin + other[1]
            if arabic:
                first, last = _arabic_typed(first), _arabic_typed(last)
            display = f"{first} {last}"
            legal, nid, econ = "", None, None
            ncode = national_code(rng) if rng.random() < 0.7 else None
            birthday = (date(1950, 1, 1) + timedelta(days=rng.randrange(20_000))
                        if rng.random() < 0.4 else None)
            anniversary = (date(1990, 1, 1) + timedelta(days=rng.randrange(12_000))
                           if rng.random() < 0.15 else None)
            if rng.random() < 0.95:
                mobiles.append(mobile_for(cid))
            if rng.random() < 0.10:
                mobiles.append(mobile_for(cid, second=True))
            if rng.random() < 0.30:
                sep = rng.choice([".", "_", ""])
                emails.append(f"{first_latin}{sep}{last_latin}{rng.randrange(1, 9999)}"
                              f"@{rng.choice(EMAIL_DOMAINS)}")
            if rng.random() < 0.10:
                phones.append(f"0{rng.choice(AREA_CODES)}{rng.randrange(10 ** 7, 10 ** 8)}")
        # the order the ORM loads them in: kind, primary first, id
        points = ([("email", v, i == 0) for i, v in enumerate(emails)]
                  + [("mobile", v, i == 0) for i, v in enumerate(mobiles)]
                  + [("phone", v, i == 0) for i, v in enumerate(phones)])
        key = search_key_for(SimpleNamespace(
            display_name=display, first_name=first, last_name=last, legal_name=legal,
            national_code=ncode, national_id=nid, economic_code=econ,
            contacts=[SimpleNamespace(kind=k, value=v) for k, v, _p in points]))
        customers.append((
            cid, "organisation" if org else "person", display, first, last, legal, ncode, nid,
            econ, birthday, anniversary, rng.choice(SOURCES), owner_id, None,
            rng.random() < 0.4, rng.random() < 0.6, "{}", key, created, created))
        contacts.extend((cid, k, v, "", p) for k, v, p in points)
        if rng.random() < 0.7:
            r = rng.random()
            province, city, _w = CITIES[int(np.searchsorted(city_cdf, r))]
            line = (f"خیابان {rng.choice(STREETS)}، کوچه {rng.randrange(1, 40)}، "
                    f"پلاک {rng.randrange(1, 200)}")
            addresses.append((cid, province, city, line, None))
        if n_tags and rng.random() < 0.1:
            for tag_id in rng.sample(range(1, n_tags + 1), rng.choice((1, 1, 2))):
                tags.append((cid, tag_id))
    return customers, contacts, addresses, tags


def seed_customers(dep: Deployment, n: int, seed: int = 1, processes: int | None = None,
                   verbose: bool = True) -> float:
    """Add customers 1..n with contacts, addresses and tags; returns the seconds it took."""
    started = time.perf_counter()
    tag_ids = _ensure_tags(dep)
    chunks = [(s, min(s + CHUNK, n + 1), n, seed, dep.admin_id, len(tag_ids))
              for s in range(1, n + 1, CHUNK)]
    processes = processes or min(os.cpu_count() or 1, 4)
    ctx = multiprocessing.get_context("fork")
    done = 0
    with ctx.Pool(processes) as pool:  # forked before the loader opens its connection
        loader = Loader(dep)
        loader.drop_indexes(CUSTOMER_TABLES)
        for customers, contacts, addresses, tags in pool.imap(_customer_chunk, chunks):
            loader.rows("core_customer", CUSTOMER_COLUMNS, customers)
            loader.rows("core_contact_point", CONTACT_COLUMNS, contacts)
            loader.rows("core_address", ADDRESS_COLUMNS, addresses)
            loader.rows("core_customer_tag", TAG_COLUMNS, tags)
            loader.commit()
            done += len(customers)
            if verbose and done % 200_000 < CHUNK:
                print(f"  customers: {done:>9} ({time.perf_counter() - started:.0f} s)",
                      flush=True)
    loader.finish(CUSTOMER_TABLES)
    loader.close()
    took = time.perf_counter() - started
    if verbose:
        print(f"  customers: {n} seeded in {took:.0f} s", flush=True)
    return took


def check_search_keys(dep: Deployment, sample: int = 300, seed: int = 4) -> int:
    """Load ``sample`` seeded customers through the ORM and compare their stored search key
    with ``search_key_for``; returns how many differ (0 expected)."""
    from sqlalchemy import func, select

    from core.customers.keys import search_key_for
    from core.customers.models import Customer
    from core.extensions import db

    app = dep.app()
    with app.app_context():
        top = db.session.execute(select(func.max(Customer.id))).scalar() or 0
        ids = random.Random(seed).sample(range(1, top + 1), min(sample, top))
        customers = db.session.execute(select(Customer).where(Customer.id.in_(ids))).scalars()
        wrong = sum(c.search_key != search_key_for(c) for c in customers)
        db.session.remove()
        db.engine.dispose()
    return wrong


def _ensure_tags(dep: Deployment) -> list[int]:
    engine = dep.engine()
    with engine.begin() as conn:
        for name in TAGS:
            if conn.execute(text("SELECT id FROM core_tag WHERE name = :n"), {"n": name}).scalar() \
                    is None:
                conn.execute(text("INSERT INTO core_tag (name) VALUES (:n)"), {"n": name})
        ids = [row[0] for row in conn.execute(text("SELECT id FROM core_tag ORDER BY id"))]
    engine.dispose()
    return ids


# --- purchases -------------------------------------------------------------------------------

PURCHASE_COLUMNS = ["customer_id", "occurred_at", "amount", "currency", "source", "reference",
                    "idempotency_key", "created_at"]


def purchase_plan(n_customers: int, n_purchases: int, seed: int = 2, buyers: float = 0.7):
    """Per customer: purchase count, first day and active span (days before NOW), mean spend.

    A share ``buyers`` of the customers ever buy (at least once); among them the purchase
    rates are Gamma-distributed (a few buy often, most rarely) and the counts sum to exactly
    ``n_purchases``. Each buyer
    is born on a day of the last three years and buys, at uniform times, until it drops out
    somewhere in its life (the active span), as in the BG/NBD story.
    """
    rng = np.random.default_rng(seed)
    buyer = rng.random(n_customers) < buyers
    weights = np.where(buyer, rng.gamma(0.6, 1.0, n_customers), 0.0)
    birth_age = rng.uniform(1, HISTORY_DAYS, n_customers)  # days before NOW
    weights *= birth_age  # longer-lived customers had more time to buy
    n_buyers = int(buyer.sum())
    if n_purchases < n_buyers:  # too few purchases for every buyer to have one
        buyer &= np.cumsum(buyer) <= n_purchases
        weights = np.where(buyer, weights, 0.0)
        n_buyers = int(buyer.sum())
    counts = buyer.astype(np.int64)
    if n_purchases > n_buyers:  # every buyer buys once; the rest follow the weights
        counts += rng.multinomial(n_purchases - n_buyers, weights / weights.sum())
    alive_share = np.where(rng.random(n_customers) < 0.4, 1.0, rng.beta(2.0, 1.5, n_customers))
    spend = np.round(rng.gamma(4.0, 1.0, n_customers) * 1_500_000, -4)  # mean ~6M rials
    return counts, birth_age, alive_share, spend


def _purchase_rows(start: int, stop: int, plan, seed: int) -> Iterator[tuple]:
    counts, birth_age, alive_share, spend = plan
    rng = np.random.default_rng([seed, start])
    idx = np.arange(start, stop)
    c = counts[start:stop]
    cust = np.repeat(idx, c)
    if cust.size == 0:
        return
    first = np.repeat(birth_age[start:stop], c)
    span = first * np.repeat(alive_share[start:stop], c)
    offset = rng.random(cust.size) * span
    # each buyer's first purchase is on its birth day
    starts = np.concatenate(([0], np.cumsum(c)[:-1]))[c > 0]
    offset[starts] = 0.0
    ages = first - offset  # days before NOW
    seconds = (NOW.timestamp() - ages * 86400).astype(np.int64)
    amounts = np.maximum(
        np.round(rng.gamma(6.0, np.repeat(spend[start:stop], c) / 6.0), -3), 1000
    ).astype(np.int64)
    kind = rng.random(cust.size)
    customer_ids = (cust + 1).tolist()
    stamps = [datetime.fromtimestamp(s, UTC) for s in seconds.tolist()]
    for i, (cid, when, amount, k) in enumerate(zip(customer_ids, stamps, amounts.tolist(),
                                                     kind.tolist(), strict=True)):
        if k < 0.6:
            ref = f"INV-{start}-{i}"
            yield (cid, when, amount, "IRR", "sales", ref, f"invoice:{start}-{i}", when)
        elif k < 0.9:
            yield (cid, when, amount, "IRR", "pos", "", None, when)
        else:
            yield (cid, when, amount, "IRR", "api", f"ORD{start}{i}", None, when)


def seed_purchases(dep: Deployment, n_purchases: int, n_customers: int | None = None,
                   seed: int = 2, buyers: float = 0.7, verbose: bool = True) -> float:
    """Add ``n_purchases`` purchases of customers 1..n_customers (a share ``buyers`` of them
    buy); returns the seconds taken."""
    started = time.perf_counter()
    if n_customers is None:
        engine = dep.engine()
        with engine.connect() as conn:
            n_customers = int(conn.execute(text("SELECT max(id) FROM core_customer")).scalar()
                              or 0)
        engine.dispose()
    plan = purchase_plan(n_customers, n_purchases, seed, buyers)
    loader = Loader(dep)
    loader.drop_indexes(["core_purchase"])
    done = 0
    step = 100_000
    for start in range(0, n_customers, step):
        done += loader.rows("core_purchase", PURCHASE_COLUMNS,
                            _purchase_rows(start, min(start + step, n_customers), plan, seed))
        loader.commit()
        if verbose and start % 500_000 == 0 and start:
            print(f"  purchases: {done:>9} ({time.perf_counter() - started:.0f} s)", flush=True)
    loader.finish(["core_purchase"])
    loader.close()
    took = time.perf_counter() - started
    if verbose:
        print(f"  purchases: {done} seeded in {took:.0f} s", flush=True)
    return took


# --- the persistent bench database (bench/load.py) -------------------------------------------

BENCH_URL = "postgresql://postgres@127.0.0.1:5432/peyvand_bench"
MARKER_TABLE = "bench_seed_marker"
SCALES = {
    "full": {"customers": 1_000_000, "purchases": 5_000_000, "deals": 200_000,
             "tickets": 1_000_000, "members": 300_000, "quotes": 100_000, "invoices": 300_000,
             "segments": 20, "campaigns": 20},
    "smoke": {"customers": 400, "purchases": 2_000, "deals": 200, "tickets": 400,
              "members": 120, "quotes": 100, "invoices": 200, "segments": 3, "campaigns": 3},
}
SEATS = ("sales", "service", "marketing", "loyalty", "accounting_link")
# The steps in order; rerunning one clears its tables and every later step's marker.
STEPS = ("customers", "purchases", "deals", "tickets", "documents", "members", "marketing")
STEP_TABLES = {
    "customers": CUSTOMER_TABLES,
    "purchases": ["core_purchase"],
    "deals": ["sales_deal", "sales_stage", "sales_pipeline"],
    "tickets": ["service_ticket"],
    "documents": ["accounting_link_line", "accounting_link_entry", "sales_invoice_line",
                  "sales_invoice", "sales_quote_line", "sales_quote_version", "sales_quote"],
    "members": ["loyalty_lot_use", "loyalty_lot", "loyalty_entry", "loyalty_member"],
    "marketing": ["marketing_campaign", "marketing_segment"],
}


def _admin_database_url(url: str) -> tuple[str, str]:
    """(URL of the server's ``postgres`` database, the name of the bench database)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(_pg_url(url))
    return parsed.set(database="postgres").render_as_string(hide_password=False), \
        parsed.database


def open_bench(url: str = BENCH_URL, verbose: bool = True) -> Deployment:
    """The bench database at ``url`` (created when missing) with the tables, the first-run
    state, the admin (every seat) and the marker table; idempotent."""
    from core.admin.services import create_or_update_user
    from core.bootstrap import ensure_deployment
    from core.extensions import db

    admin_url, name = _admin_database_url(url)
    if name in ("test", "postgres"):
        raise SystemExit(f"refusing to seed the {name!r} database: use a dedicated one")
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                            {"n": name}).scalar():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
            if verbose:
                print(f"created database {name}", flush=True)
    engine.dispose()
    url = _pg_url(url)
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
                        ).scalar():
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        conn.execute(text(f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} (step text PRIMARY KEY, "
                          "rows bigint, seconds double precision, done_at timestamptz)"))
    engine.dispose()
    instance = os.path.join(tempfile.gettempdir(), f"peyvand-bench-{name}")
    os.makedirs(os.path.join(instance, "uploads"), exist_ok=True)
    dep = Deployment(url=url, dialect="postgresql", schema=None, instance=instance)
    dep.env = {"DATABASE_URL": url, "SECRET_KEY": "bench-secret", "CRM_INSTANCE_PATH": instance,
               "CRM_UPLOAD_DIR": os.path.join(instance, "uploads")}
    app = dep.app()
    with app.app_context():
        db.create_all()
        ensure_deployment()
        user = create_or_update_user(email=ADMIN_EMAIL, password=ADMIN_PASSWORD,
                                     role_name="admin", name="Bench admin", seats=list(SEATS))
        db.session.commit()
        dep.admin_id = user.id
        db.session.remove()
        db.engine.dispose()
    return dep


def seeded(dep: Deployment) -> dict[str, int]:
    """{step: rows} of the steps already seeded."""
    engine = dep.engine()
    with engine.connect() as conn:
        done = dict(conn.execute(text(f"SELECT step, rows FROM {MARKER_TABLE}")).all())
    engine.dispose()
    return done


def _mark(dep: Deployment, step: str, rows: int, seconds: float) -> None:
    engine = dep.engine()
    with engine.begin() as conn:
        conn.execute(text(f"DELETE FROM {MARKER_TABLE} WHERE step = :s"), {"s": step})
        conn.execute(text(f"INSERT INTO {MARKER_TABLE} VALUES (:s, :r, :t, now())"),
                     {"s": step, "r": rows, "t": seconds})
    engine.dispose()


def _clear(dep: Deployment, step: str) -> None:
    """Empty the tables of ``step`` and forget it and every later step."""
    later = STEPS[STEPS.index(step):]
    engine = dep.engine()
    with engine.begin() as conn:
        conn.execute(text(f"DELETE FROM {MARKER_TABLE} WHERE step = ANY(:s)"),
                     {"s": list(later)})
        tables = [t for t in STEP_TABLES[step] if t in _metadata().tables]
        conn.execute(text("TRUNCATE " + ", ".join(tables) + " RESTART IDENTITY CASCADE"))
    engine.dispose()


def _metadata():
    from core.extensions import db

    return db.metadata


def _setval(cur, tables: Iterable[str]) -> None:
    for table in tables:
        cur.execute(f"SELECT pg_get_serial_sequence('{table}', 'id')")
        sequence = cur.fetchone()[0]
        if sequence:
            cur.execute(f"SELECT setval('{sequence}', "
                        f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)")


def _columns(cur, table: str) -> list[str]:
    cur.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = "
                "current_schema() AND table_name = %s ORDER BY ordinal_position", (table,))
    return [row[0] for row in cur.fetchall()]


def _clone(cur, table: str, where: str, count: int, overrides: dict[str, str],
           joins: str = "") -> int:
    """``count`` copies of the rows of ``table`` matching ``where`` (alias ``t``; the copy
    number is ``g``, 1..count), with ``overrides`` {column: SQL expression}; the id comes from
    the sequence unless overridden. Returns the rows inserted."""
    columns = [c for c in _columns(cur, table) if c != "id" or "id" in overrides]
    exprs = [overrides.get(c, f't."{c}"') for c in columns]
    names = ", ".join(f'"{c}"' for c in columns)
    cur.execute(f"INSERT INTO {table} ({names}) SELECT {', '.join(exprs)} FROM {table} t "
                f"CROSS JOIN generate_series(1, {int(count)}) g {joins} WHERE {where}")
    return cur.rowcount


def _seed_documents(dep: Deployment, quotes: int, invoices: int, n_customers: int) -> int:
    """One quote and one posted invoice made through the services (the invoice's journal entry
    too, when the accounting link posts it), then copied in SQL: ``quotes`` quotes and
    ``invoices`` invoices, each with its lines (and journal entry), spread over the customers
    and the last two years."""
    from core.auth.models import User
    from core.customers.models import Customer
    from core.extensions import db
    from modules.sales import invoices as invoice_service
    from modules.sales import quotes as quote_service

    app = dep.app()
    items = [{"description": "لپ‌تاپ ایسوس", "quantity": 1000, "unit_price": 285_000_000,
              "unit": "عدد"},
             {"description": "نصب و راه‌اندازی", "quantity": 2000, "unit_price": 4_500_000,
              "unit": "ساعت"}]
    with app.test_request_context("/", method="POST"):
        admin = db.session.get(User, dep.admin_id)
        customer = db.session.get(Customer, 1)
        quote = quote_service.create_quote(customer, items, by=admin)
        invoice = invoice_service.create_invoice(customer, items, by=admin)
        db.session.commit()
        quote_id, invoice_id = quote.id, invoice.id
        invoice_service.post_invoice(invoice_id, by=admin)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    loader = Loader(dep)
    cur = loader.conn.cursor()
    nc = int(n_customers)
    customer = f"(1 + ((g::bigint * 7919) % {nc}))"
    days = "((g * 37) % 700)"
    total = 0
    # quotes: the quote, its version and the version's lines
    cur.execute("SELECT id FROM sales_quote_version WHERE quote_id = %s", (quote_id,))
    version_id = cur.fetchone()[0]
    total += _clone(cur, "sales_quote", f"t.id = {quote_id}", quotes - 1, {
        "id": f"{quote_id} + g", "number": "t.number + g", "customer_id": customer,
        "created_at": f"t.created_at - make_interval(days => {days})",
        "updated_at": f"t.created_at - make_interval(days => {days})",
        "status": "(ARRAY['draft','sent','accepted','rejected','sent'])[1 + g % 5]"})
    _clone(cur, "sales_quote_version", f"t.id = {version_id}", quotes - 1, {
        "id": f"{version_id} + g", "quote_id": f"{quote_id} + g",
        "issue_date": f"t.issue_date - {days}"})
    _clone(cur, "sales_quote_line", f"t.version_id = {version_id}", quotes - 1, {
        "version_id": f"{version_id} + g"})
    # invoices with their lines, and the journal entry of each with its lines
    total += _clone(cur, "sales_invoice", f"t.id = {invoice_id}", invoices - 1, {
        "id": f"{invoice_id} + g", "number": "t.number + g", "customer_id": "c.id",
        "buyer_name": "c.display_name",
        "issue_date": f"t.issue_date - {days}", "due_date": f"t.issue_date - {days} + 30",
        "created_at": f"t.created_at - make_interval(days => {days})",
        "posted_at": f"t.posted_at - make_interval(days => {days})"},
        joins=f"JOIN core_customer c ON c.id = {customer}")
    _clone(cur, "sales_invoice_line", f"t.invoice_id = {invoice_id}", invoices - 1, {
        "invoice_id": f"{invoice_id} + g"})
    cur.execute("UPDATE sales_number_sequence SET last_number = (SELECT max(number) FROM "
                "sales_invoice WHERE kind = 'invoice') WHERE kind = 'invoice'")
    cur.execute("UPDATE sales_number_sequence SET last_number = (SELECT max(number) FROM "
                "sales_quote) WHERE kind = 'quote'")
    cur.execute("SELECT id FROM accounting_link_entry WHERE source_type = 'sales.invoice' "
                "AND source_id = %s", (invoice_id,))
    entry = cur.fetchone()
    if entry is not None:
        entry_id = entry[0]
        total += _clone(cur, "accounting_link_entry", f"t.id = {entry_id}", invoices - 1, {
            "id": f"{entry_id} + g", "number": "t.number + g", "source_id": f"{invoice_id} + g",
            "key": f"'sales.invoice:' || ({invoice_id} + g)", "customer_id": customer,
            "reference": "t.reference || '-' || g",
            "entry_date": f"t.entry_date - {days}",
            "created_at": f"t.created_at - make_interval(days => {days})"})
        _clone(cur, "accounting_link_line", f"t.entry_id = {entry_id}", invoices - 1, {
            "entry_id": f"{entry_id} + g"})
        cur.execute("UPDATE accounting_link_sequence SET last_number = (SELECT max(number) "
                    "FROM accounting_link_entry e WHERE e.fiscal_year = "
                    "accounting_link_sequence.fiscal_year)")
    else:
        print("  documents: posting made no journal entry (accounting link inactive?)")
    tables = ["sales_quote", "sales_quote_version", "sales_quote_line", "sales_invoice",
              "sales_invoice_line", "accounting_link_entry", "accounting_link_line"]
    _setval(cur, tables)
    loader.commit()
    loader.conn.autocommit = True
    for table in tables:
        cur.execute(f"VACUUM ANALYZE {table}")
    loader.close()
    return total


def _luhn(body: str) -> str:
    from modules.loyalty.members import luhn_digit

    return body + luhn_digit(body)


MEMBER_COLUMNS = ["id", "customer_id", "card_number", "referral_code", "status",
                  "enrolled_via", "enrolled_at", "owner_id", "balance", "pending",
                  "lifetime_earned", "lifetime_redeemed", "last_activity_on"]
ENTRY_COLUMNS = ["id", "member_id", "kind", "bucket", "points", "reason", "reference",
                 "balance_after", "pending_after", "amount", "created_at"]
LOT_COLUMNS = ["member_id", "entry_id", "points", "remaining", "status", "earned_at",
               "available_on", "expires_on", "reference"]


def seed_members(dep: Deployment, n: int, n_customers: int, seed: int = 9) -> int:
    """``n`` club members spread over the customers, each with one or two earn entries (and a
    lot for each) whose sum is the member's balance, as ``modules.loyalty.ledger`` keeps it."""
    from modules.loyalty.members import CARD_PREFIX, CODE_ALPHABET

    rng = random.Random(seed)
    members, entries, lots = [], [], []
    entry_id = 0
    step = max(n_customers // max(n, 1), 1)
    base = len(CODE_ALPHABET)
    for mid in range(1, n + 1):
        customer_id = 1 + (mid - 1) * step
        enrolled = NOW - timedelta(seconds=rng.randrange(86_400, 700 * 86_400))
        code, value = [], mid * 7_919 + 104_729
        for _ in range(8):
            value, digit = divmod(value, base)
            code.append(CODE_ALPHABET[digit])
        balance = 0
        for k in range(1 if mid % 3 else 2):
            entry_id += 1
            points = rng.randrange(10, 5_000)
            balance += points
            when = enrolled + timedelta(days=30 * k)
            entries.append((entry_id, mid, "earn", "available", points, "خرید", f"bench-{mid}",
                            balance, 0, points * 10_000, when))
            lots.append((mid, entry_id, points, points, "available", when, when.date(),
                         date(2030, 1, 1), f"bench-{mid}"))
        members.append((mid, customer_id, _luhn(f"{CARD_PREFIX}{mid:011d}"), "".join(code),
                        "active", "import", enrolled, dep.admin_id, balance, 0, balance, 0,
                        (enrolled + timedelta(days=30)).date()))
    loader = Loader(dep)
    tables = ["loyalty_member", "loyalty_entry", "loyalty_lot"]
    loader.drop_indexes(tables)
    loader.rows("loyalty_member", MEMBER_COLUMNS, members)
    loader.rows("loyalty_entry", ENTRY_COLUMNS, entries)
    loader.rows("loyalty_lot", LOT_COLUMNS, lots)
    loader.commit()
    loader.finish(tables)
    loader.close()
    return n


def seed_marketing(dep: Deployment, segments: int, campaigns: int) -> int:
    """Dynamic segments by city and tag, and draft SMS campaigns to them."""
    from core.extensions import db
    from modules.marketing.models.campaigns import Campaign
    from modules.marketing.models.segments import Segment

    app = dep.app()
    with app.app_context():
        made = []
        for i in range(segments):
            _province, city, _w = CITIES[i % len(CITIES)]
            rules = {"match": "all", "rules": [{"field": "city", "op": "is", "value": city}]}
            made.append(Segment(name=f"مشتریان {city} {i + 1}", kind="dynamic", rules=rules))
        db.session.add_all(made)
        db.session.flush()
        for i in range(campaigns):
            db.session.add(Campaign(
                name=f"جشنواره {i + 1}", channel="sms", status="draft",
                segment_id=made[i % len(made)].id if made else None,
                body_text="{{ first_name }} عزیز، جشنواره نوروزی آغاز شد.",
                created_by_id=dep.admin_id))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return segments + campaigns


# bench/kanban.py's deals are made on whole days; spread them over the day, as real ones are
DEAL_TIMES = ("UPDATE sales_deal SET created_at = created_at + make_interval(secs => "
              "(id::bigint * 7919) % 86400), updated_at = updated_at + make_interval(secs => "
              "(id::bigint * 7919) % 86400)")


def seed_bench(url: str = BENCH_URL, scale: str | dict = "full", verbose: bool = True
               ) -> Deployment:
    """Seed the bench database step by step, skipping the steps its marker says are done."""
    from bench.kanban import setup as seed_deals
    from bench.tickets import seed_tickets

    sizes = SCALES[scale] if isinstance(scale, str) else scale
    dep = open_bench(url, verbose)
    done = seeded(dep)
    nc = sizes["customers"]
    if done.get("customers") not in (None, nc):
        raise SystemExit(f"the bench database holds {done['customers']} customers, not {nc}: "
                         "use another database (--database-url) or --reset")

    def run(step, func, rows):
        if step in done:
            if verbose:
                print(f"{step}: already seeded ({done[step]} rows)", flush=True)
            return
        _clear(dep, step)
        done.clear()  # every later step reruns too
        if verbose:
            print(f"{step}: seeding {rows} ...", flush=True)
        started = time.perf_counter()
        func()
        took = time.perf_counter() - started
        _mark(dep, step, rows, took)
        if verbose:
            print(f"{step}: done in {took:.0f} s", flush=True)

    def deals():
        seed_deals(dep, sizes["deals"], nc)
        engine = dep.engine()
        with engine.begin() as conn:  # the deals seeded are open; close some of them
            conn.execute(text("UPDATE sales_deal SET status = CASE WHEN id % 5 = 0 THEN 'won' "
                              "WHEN id % 7 = 0 THEN 'lost' ELSE status END"))
            conn.execute(text(DEAL_TIMES))
        # The updates left a dead row per deal; the board's index-only scan needs them gone
        # and the pages marked all-visible (autovacuum may be off on a bench server).
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE sales_deal"))
        engine.dispose()

    run("customers", lambda: seed_customers(dep, nc, verbose=verbose), nc)
    run("purchases", lambda: seed_purchases(dep, sizes["purchases"], nc, verbose=verbose),
        sizes["purchases"])
    run("deals", deals, sizes["deals"])
    run("tickets", lambda: seed_tickets(dep, sizes["tickets"], nc), sizes["tickets"])
    run("documents", lambda: _seed_documents(dep, sizes["quotes"], sizes["invoices"], nc),
        sizes["quotes"] + sizes["invoices"])
    run("members", lambda: seed_members(dep, sizes["members"], nc), sizes["members"])
    run("marketing", lambda: seed_marketing(dep, sizes["segments"], sizes["campaigns"]),
        sizes["segments"] + sizes["campaigns"])
    return dep


def reset_bench(url: str) -> None:
    """Drop the bench database (never ``test`` or ``postgres``)."""
    admin_url, name = _admin_database_url(url)
    if name in ("test", "postgres"):
        raise SystemExit(f"refusing to drop the {name!r} database")
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(
        description="Seed the bench database (a dedicated PostgreSQL database, created when "
                    "missing; resumable: finished steps are skipped).")
    parser.add_argument("--database-url", default=BENCH_URL)
    parser.add_argument("--scale", choices=sorted(SCALES), default="full")
    parser.add_argument("--reset", action="store_true", help="drop the database first")
    args = parser.parse_args()
    if args.reset:
        reset_bench(args.database_url)
    started = time.perf_counter()
    seed_bench(args.database_url, args.scale)
    print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)


if __name__ == "__main__":
    import sys

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    main()
