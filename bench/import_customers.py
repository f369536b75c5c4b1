"""Customer import at scale: the real import path against a bare bulk insert of the same rows.

    .venv/bin/python bench/import_customers.py [--rows 1000000] [--database-url URL] [--rounds N]

Writes N realistic Persian customer rows to a CSV on disk, streamed: names (some typed with the
Arabic ي and ك), mobiles written the ways people write them (۰۹۱۲ ۳۴۵ ۶۷۸۹, +98..., 0912-...),
emails, national codes with valid check digits, Jalali birthdays in either digits, provinces
and cities, tags separated by «،»; about one row in a hundred has a mistake. Then, each in its
own process on a fresh database with the application's tables and indexes:

- ceiling: the CSV read and its rows inserted with executemany of plain INSERTs into
  core_customer and core_contact_point through the same driver (sqlite3 or psycopg), no checks;
- import: ``core.customers.importer.run_import``, the function the UI job and
  ``crm import customers`` run, on the same file (file check, normalisation, matching, writes);
- import of the first quarter of the file, to show that peak memory does not grow with it.

Prints rows/s of both, their ratio (target ≥ 0.25), CPU time per row and each process's peak
RSS; ``--rounds N`` keeps the fastest of N runs of each (the ratio is noisy on a busy machine:
the import runs for minutes and shares the CPU with whatever else runs). SQLite by
default (a file in a temporary folder); ``--database-url postgresql://...`` runs on a private
schema that is dropped afterwards.
"""

import argparse
import csv
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

HEADER = ["نام", "نام خانوادگی", "موبایل", "ایمیل", "کد ملی", "تاریخ تولد", "استان", "شهر",
          "برچسب"]
FIRST = ["محمد", "علی", "حسین", "رضا", "مهدی", "امیر", "حسن", "سعید", "مجید", "حمید", "احمد",
         "مصطفی", "جواد", "محسن", "علیرضا", "ابوالفضل", "میلاد", "فرهاد", "بهروز", "آرش",
         "بابک", "پیمان", "سینا", "پویا", "نیما", "امید", "فاطمه", "زهرا", "مریم", "زینب",
         "معصومه", "سمیرا", "نرگس", "لیلا", "الهام", "سارا", "نازنین", "مهسا", "مینا", "شیرین",
         "پریسا", "ساناز", "نگار", "فرزانه", "مهناز", "یاسمن", "آزاده", "ژاله", "کیمیا", "ستاره"]
LAST = ["محمدی", "حسینی", "احمدی", "رضایی", "موسوی", "کریمی", "جعفری", "رحیمی", "صادقی",
        "هاشمی", "قاسمی", "نوری", "کاظمی", "اکبری", "حیدری", "مرادی", "عباسی", "سلیمانی",
        "ابراهیمی", "یوسفی", "شریفی", "نجفی", "زارعی", "طاهری", "بهرامی", "فرهادی", "کیانی",
        "نظری", "امیری", "خسروی", "شیرازی", "اصفهانی", "تهرانی", "قربانی", "باقری", "رستمی",
        "سعیدی", "میرزایی", "پورمحمدی", "زمانی"]
LATIN = ["mohammad", "ali", "hossein", "reza", "mahdi", "amir", "sara", "maryam", "zahra", "neda"]
PLACES = [("تهران", "تهران"), ("تهران", "شهریار"), ("اصفهان", "اصفهان"), ("اصفهان", "کاشان"),
          ("خراسان رضوی", "مشهد"), ("فارس", "شیراز"), ("آذربایجان شرقی", "تبریز"),
          ("البرز", "کرج"), ("قم", "قم"), ("خوزستان", "اهواز"), ("گیلان", "رشت"),
          ("کرمان", "کرمان"), ("یزد", "یزد"), ("مازندران", "ساری")]
TAGS = ["ویژه", "عمده‌فروش", "نمایشگاه تهران ۱۴۰۳", "مشتری وفادار", "همکار", "VIP"]
PREFIXES = ["912", "935", "936", "919", "910", "901", "990", "921", "937", "913"]
DOMAINS = ["gmail.com", "yahoo.com", "chmail.ir", "mail.ir"]
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
ARABIC = str.maketrans({"ی": "ي", "ک": "ك"})
BATCH = 1000


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def check_digit(nine: str) -> int:
    remainder = sum(int(d) * (10 - i) for i, d in enumerate(nine)) % 11
    return remainder if remainder < 2 else 11 - remainder


def write_rows(path: Path, n: int, seed: int = 7) -> None:
    """N customer rows as people's spreadsheets hold them, written as they are made."""
    rng = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(HEADER)
        for i in range(1, n + 1):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            if rng.random() < 0.1:
                first, last = first.translate(ARABIC), last.translate(ARABIC)
            number = f"{PREFIXES[i % 10]}{(i // 10) * 7 % 10_000_000:07d}"
            style = rng.random()
            mobile = (f"0{number}" if style < 0.4 else
                      f"0{number[:3]} {number[3:6]} {number[6:]}".translate(PERSIAN)
                      if style < 0.7 else f"+98{number}" if style < 0.85
                      else f"0{number[:3]}-{number[3:]}")
            email = (f"{rng.choice(LATIN)}.{i}@{rng.choice(DOMAINS)}"
                     if rng.random() < 0.6 else "")
            code = ""
            if rng.random() < 0.7:
                nine = f"{i * 7919 % 1_000_000_000:09d}"
                code = nine + str(check_digit(nine))
            birthday = ""
            if rng.random() < 0.6:
                birthday = f"{rng.randint(1330, 1385)}/{rng.randint(1, 12):02d}/" \
                           f"{rng.randint(1, 29):02d}"
                if rng.random() < 0.5:
                    birthday = birthday.translate(PERSIAN)
            province, city = rng.choice(PLACES) if rng.random() < 0.8 else ("", "")
            tags = "، ".join(rng.sample(TAGS, rng.randint(1, 2))) if rng.random() < 0.3 else ""
            if i % 100 == 50:
                mobile = mobile[:5]  # a mistake: the number is cut short
            out.writerow([first, last, mobile, email, code, birthday, province, city, tags])


def make_app(url: str):
    from config import Config
    from core import create_app

    folder = Path(os.environ.get("CRM_INSTANCE_PATH") or tempfile.mkdtemp(prefix="peyvand-"))
    return create_app(Config, SQLALCHEMY_DATABASE_URI=url, SECRET_KEY="bench-secret",
                      CRM_UPLOAD_DIR=str(folder / "uploads"))


def ceiling(csv_path: Path, url: str) -> dict:
    """Plain INSERTs of the same rows through the driver: no parsing of values, no checks."""
    from core.extensions import db

    app = make_app(url)
    with app.app_context():
        db.create_all()
        raw = db.engine.raw_connection()
        sqlite = db.engine.dialect.name == "sqlite"
        mark = "?" if sqlite else "%s"
        customer_sql = (
            "INSERT INTO core_customer (id, kind, display_name, first_name, last_name, "
            "legal_name, national_code, source, consent_email, consent_sms, custom, "
            f"search_key, created_at, updated_at) VALUES ({', '.join([mark] * 14)})")
        contact_sql = ('INSERT INTO core_contact_point (customer_id, kind, value, label, '
                       f'"primary") VALUES ({", ".join([mark] * 5)})')
        now = datetime.now(UTC)
        now = now.isoformat(" ") if sqlite else now
        start, cpu = time.perf_counter(), cpu_seconds()
        cursor = raw.cursor()
        if sqlite:
            cursor.execute("BEGIN")  # the app's SQLite connections leave BEGIN to the caller
        customers, contacts, rows = [], [], 0
        with open(csv_path, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            next(reader)
            for rows, row in enumerate(reader, start=1):  # noqa: B007 - counted
                customers.append((rows, "person", f"{row[0]} {row[1]}", row[0], row[1], "",
                                  row[4] or None, "", False, False, "{}", "", now, now))
                contacts.append((rows, "mobile", row[2], "", True))
                if row[3]:
                    contacts.append((rows, "email", row[3], "", False))
                if len(customers) >= BATCH:
                    cursor.executemany(customer_sql, customers)
                    cursor.executemany(contact_sql, contacts)
                    customers, contacts = [], []
        if customers:
            cursor.executemany(customer_sql, customers)
            cursor.executemany(contact_sql, contacts)
        raw.commit()
        seconds = time.perf_counter() - start
        raw.close()
    return {"rows": rows, "seconds": seconds, "cpu": cpu_seconds() - cpu, "peak_mib": peak_mib()}


def run_import(csv_path: Path, url: str) -> dict:
    """The real import, as the job and the CLI run it."""
    from core.customers.importer import run_import as import_file
    from core.extensions import db

    app = make_app(url)
    with app.app_context():
        db.create_all()
        start, cpu = time.perf_counter(), cpu_seconds()
        result = import_file(csv_path)
        seconds = time.perf_counter() - start
    return {"rows": result.total, "seconds": seconds, "cpu": cpu_seconds() - cpu,
            "peak_mib": peak_mib(),
            "created": result.created, "updated": result.updated, "rejected": result.rejected}


# ---- orchestration: each measurement in its own process, on its own database -------------


def _database(database_url: str | None, folder: Path):
    """(url for the child, cleanup) for a fresh SQLite file or PostgreSQL schema."""
    if not database_url:
        path = folder / f"bench-{uuid.uuid4().hex[:8]}.db"
        return f"sqlite:///{path}", lambda: [p.unlink(missing_ok=True)
                                             for p in folder.glob(path.name + "*")]
    from sqlalchemy import create_engine, text

    from config import _normalise_db_url

    base = _normalise_db_url(database_url)
    schema = f"bench_import_{uuid.uuid4().hex[:10]}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = base + ("&" if "?" in base else "?") + "options=" + quote(
        f"-csearch_path={schema}", safe="")

    def drop():
        with engine.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()

    return url, drop


def measure(phase: str, csv_path: Path, database_url: str | None, folder: Path) -> dict:
    url, cleanup = _database(database_url, folder)
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--phase", phase, "--csv", str(csv_path), "--url", url],
            capture_output=True, text=True, env={**os.environ, "CRM_INSTANCE_PATH": str(folder)})
        if out.returncode:
            raise SystemExit(f"{phase} failed:\n{out.stdout}\n{out.stderr}")
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="postgresql://... (default: SQLite)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure each phase this many times and keep the fastest "
                             "(the machine's other load makes single runs noisy)")
    parser.add_argument("--phase", choices=("ceiling", "import"), help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        result = (ceiling if args.phase == "ceiling" else run_import)(args.csv, args.url)
        print(json.dumps(result))
        return

    folder = Path(tempfile.mkdtemp(prefix="peyvand-bench-import-"))
    big, small = folder / "customers.csv", folder / "customers-quarter.csv"
    start = time.perf_counter()
    write_rows(big, args.rows)
    write_rows(small, args.rows // 4)
    size = big.stat().st_size / 2**20
    where = "PostgreSQL" if args.database_url else "SQLite"
    print(f"{args.rows:,} rows ({size:.0f} MiB CSV) written in "
          f"{time.perf_counter() - start:.1f} s; database: {where}")
    try:
        runs = {"ceiling": [], "import": [], "quarter": []}
        for _round in range(args.rounds):
            runs["ceiling"].append(measure("ceiling", big, args.database_url, folder))
            runs["import"].append(measure("import", big, args.database_url, folder))
            runs["quarter"].append(measure("import", small, args.database_url, folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    bare, full, quarter = (min(runs[k], key=lambda r: r["seconds"])
                           for k in ("ceiling", "import", "quarter"))
    bare_rate, full_rate = bare["rows"] / bare["seconds"], full["rows"] / full["seconds"]
    for label, run in (("ceiling (executemany INSERT, no checks)", bare),
                       ("import (run_import)", full), ("import of a quarter of the file", quarter)):
        print(f"{label:<40}{run['rows'] / run['seconds']:>10,.0f} rows/s {run['seconds']:7.1f} s"
              f"  CPU {run['cpu'] / run['rows'] * 1e6:5.0f} us/row"
              f"  peak {run['peak_mib']:5.0f} MiB")
    print(f"imported: created {full['created']:,}, updated {full['updated']:,}, "
          f"rejected {full['rejected']:,}")
    print(f"ratio import / ceiling: {full_rate / bare_rate:.2f} (target >= 0.25); by CPU time: "
          f"{bare['cpu'] / bare['rows'] / (full['cpu'] / full['rows']):.2f} (wall time also "
          "counts waiting for the disk and for other processes on the machine)")
    print(f"peak memory, {args.rows // 4:,} rows -> {args.rows:,} rows: "
          f"{quarter['peak_mib']:.0f} -> {full['peak_mib']:.0f} MiB "
          f"({full['peak_mib'] / quarter['peak_mib']:.2f}x for 4x the rows)")


if __name__ == "__main__":
    main()
