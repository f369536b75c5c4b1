"""Customer import: rows normalised and checked, matched to existing customers, written in
batches; broken files import nothing; dry runs write nothing; mappings are remembered."""

import csv
from datetime import date

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import func, select

from core.audit import AuditLog
from core.customers.import_mapping import guess, remember, suggest
from core.customers.import_parse import FileProblem, open_table
from core.customers.importer import run_import
from core.customers.keys import search_key_for
from core.customers.models import Customer, Tag
from core.extensions import db
from tests.core.customers.conftest import national_code

CODE = national_code("001234567")
HEADER = "نام,نام خانوادگی,موبایل,ایمیل,کد ملی,تاریخ تولد,شهر,استان,برچسب"
ROWS = [
    f"علی,كريمي,۰۹۱۲ ۳۴۵ ۶۷۸۹,Ali@Example.ir,{CODE},۱۳۷۰/۰۵/۱۲,اصفهان,اصفهان,\"ویژه، نمایشگاه\"",
    "مریم,احمدی,0912,maryam@example.ir,,,تهران,تهران,",              # line 3: short mobile
    "رضا,رضایی,09351112233,,1234567890,,,,",                          # line 4: check digit
    "سارا,محمدی,+98 935 000 1122,sara@example.ir,,1370/13/01,,,",      # line 5: month 13
    ",,09190001111,,,,,,",                                            # line 6: no name
    "نگار,نوری,00989121110000,negar@example.ir,,,شیراز,فارس,مشتری خوب",
]


def write_csv(tmp_path, lines, name="customers.csv", encoding="utf-8", header=HEADER):
    path = tmp_path / name
    path.write_bytes(("\r\n".join([header, *lines]) + "\r\n").encode(encoding))
    return path


def customers():
    return list(db.session.execute(select(Customer).order_by(Customer.id)).unique().scalars())


def count(model=Customer):
    return db.session.execute(select(func.count()).select_from(model)).scalar()


def test_good_rows_are_imported_and_bad_rows_reported_with_their_line(app, tmp_path):
    path = write_csv(tmp_path, ROWS)
    report = tmp_path / "rejected.csv"
    with app.app_context():
        result = run_import(path, report=report)
        assert (result.created, result.updated, result.rejected, result.total) == (2, 0, 4, 6)
        assert [line for line, _reason in result.errors] == [3, 4, 5, 6]
        reasons = dict(result.errors)
        assert "0912 is not an Iranian mobile number" in reasons[3]
        assert "check digit" in reasons[4]
        assert "no month 13" in reasons[5]
        assert "first or last name" in reasons[6]
        ali, negar = customers()
        assert ali.display_name == "علی كريمي"
        assert ali.values("mobile") == ["+989123456789"]
        assert ali.values("email") == ["ali@example.ir"]
        assert ali.national_code == CODE and ali.birthday == date(1991, 8, 3)
        assert sorted(t.name for t in ali.tags) == ["نمایشگاه", "ویژه"]
        assert (ali.addresses[0].province, ali.addresses[0].city) == ("اصفهان", "اصفهان")
        assert negar.values("mobile") == ["+989121110000"] and negar.kind == "person"
        for customer in (ali, negar):
            assert customer.search_key == search_key_for(customer)
        assert "علی کریمی" in ali.search_key and "09123456789" in ali.search_key
    with open(report, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["Line", *HEADER.split(","), "Reason"]
    assert [r[0] for r in rows[1:]] == ["3", "4", "5", "6"]
    assert rows[1][1:4] == ["مریم", "احمدی", "0912"] and "0912" in rows[1][-1]


def test_reimporting_the_same_file_creates_nothing_new(app, tmp_path):
    path = write_csv(tmp_path, ROWS)
    with app.app_context():
        run_import(path)
        keys_before = [c.search_key for c in customers()]
        again = run_import(path)
        assert (again.created, again.updated, again.unchanged, again.rejected) == (0, 0, 2, 4)
        assert count() == 2 and count(Tag) == 3
        assert [c.search_key for c in customers()] == keys_before


def test_a_row_matching_an_existing_customer_updates_it(app, tmp_path, make_customer):
    existing = make_customer(first_name="علی", last_name="کریمی", mobiles=["09123456789"],
                             tags=["قدیمی"], source="نمایشگاه",
                             address={"province": "تهران", "city": "تهران",
                                      "line": "خیابان آزادی"})
    by_code = make_customer(first_name="مینا", last_name="صادقی", national_code=CODE)
    path = write_csv(tmp_path, [
        "علی,کریمی زاده,0912 345 6789,ali@example.ir,,,کرج,البرز,جدید",
        f",,,mina@example.ir,{CODE},1991-08-03,,,",
        "مینا,صادقی,09350000000,,,,,,",            # a new person: no key matches
        f",,09351112222,,{CODE},,,,",                 # same file: matches mina by code
    ])
    with app.app_context():
        result = run_import(path)
        assert (result.created, result.updated, result.rejected) == (1, 3, 0)
        assert count() == 3
        ali = db.session.get(Customer, existing)
        assert ali.last_name == "کریمی زاده" and ali.display_name == "علی کریمی زاده"
        assert ali.values("email") == ["ali@example.ir"]
        assert ali.values("mobile") == ["+989123456789"]
        assert sorted(t.name for t in ali.tags) == ["جدید", "قدیمی"]
        assert ali.source == "نمایشگاه" and len(ali.addresses) == 1
        address = ali.addresses[0]
        assert (address.province, address.city, address.line) == ("البرز", "کرج", "خیابان آزادی")
        mina = db.session.get(Customer, by_code)
        assert mina.values("email") == ["mina@example.ir"]
        assert mina.values("mobile") == ["+989351112222"] and mina.birthday == date(1991, 8, 3)
        assert mina.first_name == "مینا"  # empty cells leave fields alone
        for customer in customers():
            assert customer.search_key == search_key_for(customer)


def test_rows_of_one_file_that_share_a_mobile_or_email_make_one_customer(app, tmp_path):
    path = write_csv(tmp_path, [
        "علی,کریمی,09123456789,,,,,,",
        "علی,کریمی,0912-345-6789,ali@example.ir,,,,,",
        "علی,کریمی,,ALI@example.ir,,,,,vip",
        "مینا,صادقی,09350000000,,,,,,",
        "رضا,رضایی,09350000000,ali@example.ir,,,,,",  # matches two different customers
    ])
    with app.app_context():
        result = run_import(path, batch_size=2)  # matches across batches as well as inside
        assert (result.created, result.updated, result.rejected) == (2, 2, 1)
        assert result.errors[0][0] == 6 and "more than one customer" in result.errors[0][1]
        ali, mina = customers()
        assert ali.values("email") == ["ali@example.ir"] and [t.name for t in ali.tags] == ["vip"]
        assert mina.values("mobile") == ["+989350000000"]
        assert run_import(path).created == 0 and count() == 2


def test_a_dry_run_writes_nothing_and_counts_what_would_happen(app, tmp_path, make_customer):
    make_customer(first_name="علی", last_name="کریمی", mobiles=["09123456789"])
    path = write_csv(tmp_path, ROWS + ["نگار,نوری,09121110000,negar.n@example.ir,,,,,"])
    with app.app_context():
        before = (count(), count(Tag), count(AuditLog))
        result = run_import(path, dry_run=True, batch_size=3)
        assert (result.created, result.updated, result.rejected) == (1, 2, 4)
        assert (count(), count(Tag), count(AuditLog)) == before
        real = run_import(path, batch_size=3)
        assert (real.created, real.updated, real.rejected) == (1, 2, 4)


@pytest.mark.parametrize("damage, line, words", [
    (lambda rows: rows + ["بهرام,بهرامی,09120000000,,,"], 8, "has 6 values"),
    (lambda rows: rows[:2] + ['یک,"دو,09120000000,,,,,,'] + rows[2:], 4, "quote"),
])
def test_a_broken_file_imports_nothing_and_says_where(app, tmp_path, damage, line, words):
    path = write_csv(tmp_path, damage(list(ROWS)))
    with app.app_context():
        with pytest.raises(FileProblem) as problem:
            run_import(path, batch_size=1)
        assert problem.value.line == line and words in problem.value.message
        assert count() == 0 and count(Tag) == 0


def test_line_numbers_count_line_breaks_inside_quoted_values(app, tmp_path):
    path = write_csv(tmp_path, ['علی,کریمی,09123456789,,,,,,"خیابان\r\nآزادی"',
                                "مریم,احمدی,0912,,,,,,"])
    with app.app_context():
        result = run_import(path)
        assert result.errors == [[4, result.errors[0][1]]]
        assert [t.name for t in customers()[0].tags] == ["خیابان آزادی"]  # one line, one tag


def test_bytes_that_are_not_utf8_import_nothing(app, tmp_path):
    path = tmp_path / "broken.csv"
    path.write_bytes(HEADER.encode() + b"\n" + "علی,کریمی,09123456789,,,,,,\n".encode()
                     + b"\xff\xfe\xfa\xfb,x,09120000000,,,,,,\n")
    with app.app_context():
        with pytest.raises(FileProblem) as problem:
            run_import(path)
        assert problem.value.line == 3 and "not UTF-8" in problem.value.message
        assert count() == 0


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    ("09123456789,علی\n09350000000,مینا\n".encode(), "holds data"),
    (HEADER.encode() + b"\n", "no rows"),
    (b"PK\x03\x04 this is not really a zip", "not a valid Excel workbook"),
])
def test_files_without_a_header_or_rows_are_refused(app, tmp_path, content, message):
    path = tmp_path / ("f.xlsx" if content.startswith(b"PK") else "f.csv")
    path.write_bytes(content)
    with app.app_context(), pytest.raises(FileProblem, match=message):
        run_import(path)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "cp1256"])
def test_excel_encodings_and_separators_are_read(app, tmp_path, encoding):
    # Windows-1256 has the Arabic yeh only, as files from old Persian Windows have.
    line = f"علي\tكريمي\t09123456789\tali@example.ir\t{CODE}\t1370/05/12\tاصفهان\tاصفهان\tويژه"
    path = write_csv(tmp_path, [line], encoding=encoding,
                     header=HEADER.replace(",", "\t").replace("ی", "ي"))
    with app.app_context():
        table = open_table(path)
        assert table.delimiter == "\t" and table.headers[0] == "نام"
        assert run_import(path).created == 1
        ali = customers()[0]
        assert ali.last_name == "كريمي" and ali.birthday == date(1991, 8, 3)
        assert [t.name for t in ali.tags] == ["ويژه"]


def test_xlsx_with_numbers_and_date_cells(app, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["First name", "Last name", "Mobile", "National code", "Birthday", "Tags"])
    sheet.append(["Ali", "Karimi", 9123456789, int(CODE), date(1991, 8, 3), "a, b"])
    sheet.append(["Sara", "", 912, None, "1370/05/12", None])
    sheet.append([None] * 6)
    sheet.append(["Mina", "Sadeghi", "09350000000", None, None, None])
    path = tmp_path / "customers.xlsx"
    book.save(path)
    with app.app_context():
        result = run_import(path)
        assert (result.created, result.rejected) == (2, 1)
        assert result.errors == [[3, result.errors[0][1]]] and "912" in result.errors[0][1]
        ali, mina = customers()
        assert ali.values("mobile") == ["+989123456789"] and ali.national_code == CODE
        assert ali.birthday == date(1991, 8, 3)
        assert mina.display_name == "Mina Sadeghi"


def test_headers_are_guessed_in_persian_and_english_and_mappings_remembered(app):
    with app.app_context():
        assert guess(["نام", "نام‌خانوادگی", "تلفن همراه", "پست الکترونیک", "کدملی", "شهر",
                      "استان", "برچسب‌ها", "Mobile 2", "Notes"]) == [
            "first_name", "last_name", "mobile", "email", "national_code", "city", "province",
            "tags", "mobile", ""]
        assert guess(["First name", "Last Name", "E-mail", "Birthday", "Company"]) == [
            "first_name", "last_name", "email", "birthday", "legal_name"]
        headers = ["col a", "col b"]
        assert suggest(headers) == (["", ""], False)
        remember(headers, ["last_name", "mobile"])
        db.session.commit()
        assert suggest(headers) == (["last_name", "mobile"], True)


def test_custom_fields_and_organisations(app, tmp_path):
    from core.customers.custom_fields import define_field

    with app.app_context():
        define_field("size", "اندازه", "choice", ["کوچک", "بزرگ"])
        define_field("since", "مشتری از", "date")
        db.session.commit()
        path = write_csv(tmp_path, ["شرکت پیوند,بزرگ,1402/01/15,info@peyvand.ir",
                                    "شرکت دیگر,متوسط,,other@example.ir"],
                         header="نام شرکت,اندازه,مشتری از,ایمیل")
        result = run_import(path)
        assert (result.created, result.rejected) == (1, 1)
        assert "not one of the choices" in result.errors[0][1]
        org = customers()[0]
        assert org.kind == "organisation" and org.display_name == "شرکت پیوند"
        assert org.custom == {"size": "بزرگ", "since": "2023-04-04"}


def test_one_audit_entry_per_import_not_per_customer(app, tmp_path, make_user):
    from core.auth.models import User

    make_user("admin@example.ir")
    path = write_csv(tmp_path, ROWS)
    with app.app_context():
        by = db.session.execute(select(User)).scalar()
        before = count(AuditLog)
        run_import(path, by=by)
        entries = list(db.session.execute(select(AuditLog).where(AuditLog.id > 0)
                                          .order_by(AuditLog.id.desc()).limit(5)).scalars())
        assert count(AuditLog) == before + 1
        assert entries[0].action == "customers.import" and entries[0].user_id == by.id
        assert entries[0].detail["created"] == 2 and entries[0].detail["rejected"] == 4
        assert {c.owner_id for c in customers()} == {by.id}


def test_each_batch_signals_the_customers_it_created_and_updated(app, tmp_path):
    from core.customers.importer import customers_imported

    heard = []

    def listener(_sender, created, updated, source):
        heard.append((sorted(created), sorted(updated), source))

    path = write_csv(tmp_path, ROWS)
    customers_imported.connect(listener)
    try:
        with app.app_context():
            run_import(path, batch_size=4)
            ali, negar = (c.id for c in customers())
            run_import(write_csv(tmp_path, ["علی,کریمی,09123456789,,,,,,جدید"], name="b.csv"))
            run_import(path, dry_run=True)
    finally:
        customers_imported.disconnect(listener)
    assert heard == [([ali], [], "import"), ([negar], [], "import"), ([], [ali], "import")]


def test_matching_stays_within_the_importers_records(app, tmp_path, make_user, make_customer):
    from core.auth.models import User

    make_user("one@example.ir", role="agent")
    make_user("two@example.ir", role="agent")
    theirs = make_customer("two@example.ir", first_name="علی", mobiles=["09123456789"])
    path = write_csv(tmp_path, ["علی,کریمی,09123456789,,,,,,"])
    with app.app_context():
        one = db.session.execute(select(User).where(User.email == "one@example.ir")).scalar()
        result = run_import(path, by=one)
        assert result.rejected == 1 and "not in your records" in result.errors[0][1]
        assert db.session.get(Customer, theirs).last_name == ""


# ---- the quick paths give what the rules they stand in for give ---------------------------

PERSIAN_BITS = st.sampled_from(["علی", "كريمي", "می", "نمی", "ها", "های", "تر", "ترین", "رو",
                                "\u200c", " ", "  ", "ي", "ك", "ۀ", "۰۹", "12", "Ab", "ـ", "ُ",
                                "\u00a0", "ﷺ", "ﻻ", "ß", "\u0301"])


@settings(max_examples=1000, deadline=None)
@example(parts=["", "", "", "", "", "علی", "ها ها"], emails=[], mobiles=[])
@example(parts=["علی می", "", "", "", "0012345679", "", ""], emails=[], mobiles=[])
@given(parts=st.lists(st.lists(PERSIAN_BITS, max_size=5).map("".join), min_size=7,
                      max_size=7),
       emails=st.lists(st.sampled_from(["a@b.ir", "Ali.2@X.ir", "می@x.ir"]), max_size=2),
       mobiles=st.lists(st.sampled_from(["+989123456789", "+989350001122"]), max_size=2))
def test_the_quick_search_key_is_search_key_for(parts, emails, mobiles):
    from types import SimpleNamespace

    from core.customers.import_keys import KEY_FIELDS
    from core.customers.import_merge import Contact, _search_key

    state = dict(zip(KEY_FIELDS, parts, strict=True))
    contacts = [Contact("mobile", m, i == 0, None) for i, m in enumerate(mobiles)]
    contacts += [Contact("email", e, i == 0, 10 - i) for i, e in enumerate(emails)]
    loaded = sorted(contacts, key=lambda c: (c.kind, not c.primary, c.order or 1 << 62))
    expected = search_key_for(SimpleNamespace(**state, contacts=loaded))
    assert _search_key(state, contacts) == expected
    assert _search_key(state, loaded, ordered=True, canonical=True) == expected


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # the app is only read
@given(text=st.text(alphabet="0123456789+ -.()\u200c\u00a0۰۹٩", min_size=8, max_size=16),
       number=st.tuples(
           st.sampled_from(["", "0", "+98", "0098", "98", "+", "00", "+980"]),
           st.lists(st.sampled_from(list("0123456789۰۳۹٩")), min_size=8, max_size=11),
           st.lists(st.sampled_from(["", "", " ", "-", ".", "\u200c", "\u00a0", "/"]),
                    min_size=11, max_size=11))
       .map(lambda p: p[0] + "9" + "".join(d + sep for d, sep in zip(p[1], p[2][:len(p[1])],
                                                                      strict=True))))
def test_the_quick_mobile_and_national_code_checks_agree_with_the_validators(app, text, number):
    from core.customers.import_rows import mobile
    from core.customers.import_rows import national_code as quick_code
    from core.validators import canonical_mobile, check_national_code

    with app.app_context():
        for quick, rule in ((mobile, canonical_mobile), (quick_code, check_national_code)):
            for value in (text, number, CODE, "0" * 10, "09123456789"):
                try:
                    expected = rule(value)
                except ValueError:
                    with pytest.raises(ValueError):
                        quick(value)
                else:
                    assert quick(value) == expected
