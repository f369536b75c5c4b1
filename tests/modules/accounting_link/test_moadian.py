"""E-invoices: the 22-character tax id (real examples, Verhoeff properties), payloads of a main
invoice, a corrective invoice and a return against the schema with exact amounts, refusals with
clear messages, and the submission connector to a real local endpoint."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.extensions import db
from modules.accounting_link import moadian
from tests.modules.accounting_link.moadian_helpers import (
    MEMORY_ID,
    SSTID,
    Endpoint,
    build,
    credit_note,
    einvoice,
    seed,
    two_line_invoice,
)
from tests.modules.sales.document_helpers import BUYER_NATIONAL_ID, make_invoice, user

REAL_TAX_IDS = ("A278R704C75000163ECF64", "A2HEZ304D010021C3C5D15", "A2HGPP04F5E00227BB8965")


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en"}


# --- the tax id ----------------------------------------------------------------------------

@pytest.mark.parametrize("real", REAL_TAX_IDS)
def test_real_tax_ids_are_valid_and_regenerate(real):
    days, serial = int(real[6:11], 16), int(real[11:21], 16)
    assert moadian.is_valid_tax_id(real)
    issued = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=days, hours=9)
    assert moadian.tax_id(real[:6], issued, serial) == real


def test_tax_id_parts_and_check_digit():
    issued = datetime(2025, 3, 25, 6, 30, tzinfo=UTC)  # day 20172 since 1970 = 0x04ECC
    value = moadian.tax_id("a1b2c3", issued, 26)
    control = "651662673" + "020172" + "000000000026"  # A=65, B=66, C=67
    assert value == f"A1B2C304ECC000000001A{moadian.verhoeff_digit(control)}"
    assert moadian.verhoeff_digit(control) == 5 and value == "A1B2C304ECC000000001A5"
    assert moadian.decimal_form("A1B2C3") == "651662673"
    assert moadian.verhoeff_digit("236") == 3 and moadian.verhoeff_valid("2363")  # textbook
    assert not moadian.is_valid_tax_id("A1B2C304ECC000000001A6")
    assert not moadian.is_valid_tax_id("A1B2C304ECC000000001A")  # 21 characters
    with pytest.raises(moadian.MoadianError, match="6 Latin letters or digits"):
        moadian.tax_id("A1B2", issued, 1)


@settings(max_examples=200, deadline=None)
@given(memory=st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=6, max_size=6),
       day=st.integers(0, 0xFFFFF), serial=st.integers(1, moadian.MAX_SERIAL))
def test_every_tax_id_is_22_characters_and_valid(memory, day, serial):
    issued = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=day, seconds=1)
    value = moadian.tax_id(memory, issued, serial)
    assert len(value) == 22 and value.startswith(memory)
    assert moadian.is_valid_tax_id(value)
    wrong = str((int(value[-1]) + 1) % 10)
    assert not moadian.is_valid_tax_id(value[:-1] + wrong)


@settings(max_examples=300, deadline=None)
@given(number=st.text("0123456789", min_size=1, max_size=40), data=st.data())
def test_verhoeff_detects_any_single_digit_change_and_adjacent_swap(number, data):
    full = number + str(moadian.verhoeff_digit(number))
    assert moadian.verhoeff_valid(full)
    at = data.draw(st.integers(0, len(full) - 1))
    other = data.draw(st.sampled_from([d for d in "0123456789" if d != full[at]]))
    assert not moadian.verhoeff_valid(full[:at] + other + full[at + 1:])
    if len(full) > 1:
        i = data.draw(st.integers(0, len(full) - 2))
        if full[i] != full[i + 1]:
            swapped = full[:i] + full[i + 1] + full[i] + full[i + 2:]
            assert not moadian.verhoeff_valid(swapped)


# --- payloads ------------------------------------------------------------------------------

@pytest.fixture
def seeded(app, make_user):
    return seed(app, make_user)


def _schema_valid(payload):
    from jsonschema import Draft202012Validator

    schema = json.loads(moadian.SCHEMA_PATH.read_text(encoding="utf-8"))
    assert list(Draft202012Validator(schema).iter_errors(payload)) == []


def test_main_invoice_payload_carries_the_exact_amounts(app, seeded):
    from modules.sales.models.documents import Invoice

    invoice_id = two_line_invoice(app, seeded)
    record_id = build(app, invoice_id)
    with app.app_context():
        invoice = db.session.get(Invoice, invoice_id)
        record = einvoice(invoice_id)
        assert record.id == record_id and record.subject == 1 and record.status == "ready"
        payload = record.payload
        _schema_valid(payload)
        header = payload["header"]
        assert header["taxid"] == record.tax_id and moadian.is_valid_tax_id(record.tax_id)
        assert record.tax_id == moadian.tax_id(MEMORY_ID, invoice.posted_at, 1)
        assert header["indatim"] == header["indati2m"] == moadian.millis(invoice.posted_at)
        assert {k: header[k] for k in ("inty", "inno", "inp", "ins", "tins", "tob", "bid",
                                       "tinb", "bpc")} == {
            "inty": 1, "inno": "0000000001", "inp": 1, "ins": 1, "tins": "10101010103",
            "tob": 2, "bid": BUYER_NATIONAL_ID, "tinb": BUYER_NATIONAL_ID, "bpc": "8173111111"}
        assert "irtaxid" not in header
        assert {k: header[k] for k in ("tprdis", "tdis", "tadis", "tvam", "todam", "tbill",
                                       "setm", "cap", "insp")} == {
            "tprdis": 2_900_000, "tdis": 340_000, "tadis": 2_560_000, "tvam": 256_000,
            "todam": 0, "tbill": 2_816_000, "setm": 2, "cap": 0, "insp": 2_816_000}
        assert (invoice.gross, invoice.discounts, invoice.taxable, invoice.vat,
                invoice.total) == (2_900_000, 340_000, 2_560_000, 256_000, 2_816_000)
        assert payload["body"] == [
            {"sstid": SSTID, "sstt": "لپ تاپ", "am": 2, "mu": "1627", "fee": 1_200_000,
             "prdis": 2_400_000, "dis": 321_203, "adis": 2_078_797, "vra": 10,
             "vam": 207_880, "odam": 0, "olam": 0, "tsstam": 2_286_677},
            {"sstid": "2720000000017", "sstt": "نصب", "am": 1, "mu": "1627", "fee": 500_000,
             "prdis": 500_000, "dis": 18_797, "adis": 481_203, "vra": 10, "vam": 48_120,
             "odam": 0, "olam": 0, "tsstam": 529_323}]
        assert payload["payments"] == [] and record.total == 2_816_000
    assert build(app, invoice_id) == record_id  # built once


def test_payments_on_the_invoice_are_reported(app, seeded):
    from core.customers.models import Customer
    from modules.sales import payments
    from modules.sales.models.documents import Invoice

    invoice_id = make_invoice(app, seeded["customer"], [{"product_id": seeded["setup"],
                                                         "quantity": 2}], post=True)
    with app.test_request_context():
        invoice = db.session.get(Invoice, invoice_id)
        payments.record_payment(db.session.get(Customer, seeded["customer"]), amount=400_000,
                                method="card", reference="۷۷۸۸۹۹", by=user(),
                                allocations=[(invoice, 400_000)])
        db.session.commit()
    build(app, invoice_id)
    with app.app_context():
        payload = einvoice(invoice_id).payload
        _schema_valid(payload)
        [paid] = payload["payments"]
        assert (paid["pmt"], paid["pv"], paid["trn"]) == (4, 400_000, "778899")
        assert {k: payload["header"][k] for k in ("tbill", "setm", "cap", "insp")} == {
            "tbill": 1_100_000, "setm": 3, "cap": 400_000, "insp": 700_000}


def test_return_and_corrective_payloads_refer_to_the_original(app, seeded):
    from modules.sales.models.documents import Invoice

    first = two_line_invoice(app, seeded)
    note = credit_note(app, first, [{"product_id": seeded["setup"], "quantity": 1}])
    build(app, note)  # builds the original's first: the return needs its tax id
    second = make_invoice(app, seeded["customer"], [{"product_id": seeded["laptop"],
                                                     "quantity": 1}], post=True)
    corrective = make_invoice(app, seeded["customer"], [{"product_id": seeded["laptop"],
                                                         "quantity": 1, "unit_price": 1_100_000}],
                              post=True, original_id=second)
    build(app, corrective)
    with app.app_context():
        original, ret = einvoice(first, 1), einvoice(note, 4)
        assert original.serial == 1 and ret.serial == 2
        _schema_valid(ret.payload)
        header = ret.payload["header"]
        assert (header["ins"], header["irtaxid"]) == (4, original.tax_id)
        assert ret.referenced_tax_id == original.tax_id
        assert {k: header[k] for k in ("tprdis", "tdis", "tadis", "tvam", "tbill")} == {
            "tprdis": 500_000, "tdis": 0, "tadis": 500_000, "tvam": 50_000, "tbill": 550_000}
        assert ret.payload["body"][0]["tsstam"] == 550_000
        assert db.session.get(Invoice, note).total == 550_000

        replaced, fixed = einvoice(second, 1), einvoice(corrective, 2)
        _schema_valid(fixed.payload)
        assert (fixed.payload["header"]["ins"], fixed.payload["header"]["irtaxid"]) == (
            2, replaced.tax_id)
        assert fixed.payload["header"]["tbill"] == 1_210_000
        assert fixed.payload["body"][0]["fee"] == 1_100_000
        # sales credited the replaced invoice in full: that note is not reported again
        from modules.accounting_link.moadian_submit import build_einvoice

        auto_note = db.session.execute(db.select(Invoice).where(
            Invoice.original_id == second, Invoice.kind == "credit_note")).scalar_one()
        with pytest.raises(moadian.NotReported, match="corrective invoice"):
            build_einvoice(auto_note)


def test_an_invalid_payload_is_refused_with_a_clear_message(app, seeded):
    invoice_id = two_line_invoice(app, seeded)
    build(app, invoice_id)
    with app.app_context():
        payload = json.loads(json.dumps(einvoice(invoice_id).payload))
    moadian.validate(payload)
    negative = json.loads(json.dumps(payload))
    negative["body"][0]["fee"] = -5
    with app.test_request_context(), pytest.raises(moadian.MoadianError) as refused:
        moadian.validate(negative)
    assert str(refused.value) == ("The e-invoice is not valid: body[0].fee (unit price): -5 is "
                                  "less than the minimum of 0")
    broken = json.loads(json.dumps(payload))
    broken["header"]["ins"] = 4  # a return with no irtaxid
    broken["header"]["tins"] = "123"
    messages = moadian.schema_errors(broken)
    assert "header: 'irtaxid' is a required property" in messages
    assert "header.tins (seller's economic code): '123' does not match '^([0-9]{11}|[0-9]{14})$'" \
        in messages
    off = json.loads(json.dumps(payload))
    off["header"]["tbill"] += 1
    off["header"]["insp"] += 1
    with app.test_request_context(), pytest.raises(moadian.MoadianError) as unequal:
        moadian.validate(off)
    assert "header.tbill: 2816001 != sum of body.tsstam" in str(unequal.value)


def test_a_missing_memory_id_or_economic_code_is_said_plainly(app, seeded):
    from core.database import set_setting
    from modules.accounting_link.moadian_submit import KEYS

    with app.app_context():
        set_setting(KEYS["memory_id"], "")
        db.session.commit()
    invoice_id = two_line_invoice(app, seeded)
    with pytest.raises(moadian.MoadianError, match="memory id"):
        build(app, invoice_id)
    with app.app_context():
        set_setting(KEYS["memory_id"], MEMORY_ID)
        set_setting("company.economic_code", "")
        db.session.commit()
    later = two_line_invoice(app, seeded)
    with pytest.raises(moadian.MoadianError, match="no seller economic code"):
        build(app, later)
    with app.app_context():
        assert einvoice(invoice_id) is None and einvoice(later) is None


# --- submission ----------------------------------------------------------------------------

def test_enabled_submission_reports_every_posting_in_order(app, make_user):
    from core.outbox import relay_once
    from modules.sales.models.documents import Invoice

    with Endpoint() as endpoint:
        seeded = seed(app, make_user, enabled=True, endpoint=endpoint.url)
        first = two_line_invoice(app, seeded)
        corrective = make_invoice(app, seeded["customer"], [
            {"product_id": seeded["laptop"], "quantity": 1}], post=True, original_id=first)
        endpoint.statuses = [503]  # the first try fails: it is retried, nothing overtakes it
        with app.app_context():
            assert einvoice(first).status == "pending"
            assert einvoice(corrective, 2).status == "pending"
            notes = db.session.execute(db.select(Invoice.id).where(
                Invoice.kind == "credit_note")).scalars().all()
            assert len(notes) == 1 and einvoice(notes[0]) is None  # the automatic full credit
            relay_once()
            relay_once(now=datetime.now(UTC) + timedelta(hours=1))
            relay_once(now=datetime.now(UTC) + timedelta(hours=2))
            main, fixed = einvoice(first), einvoice(corrective, 2)
            assert (main.status, fixed.status) == ("sent", "sent")
            assert main.response == '200 {"referenceNumber": "R2"}' and main.sent_at
        taxids = [r["json"]["header"]["taxid"] for r in endpoint.received]
        assert taxids == [main.tax_id, main.tax_id, fixed.tax_id]
        assert endpoint.received[1]["json"] == main.payload
        headers = endpoint.received[2]["headers"]
        assert headers["Idempotency-Key"] == f"moadian:{fixed.tax_id}"
        assert headers["X-Moadian-Tax-Id"] == fixed.tax_id
        assert headers["Content-Type"] == "application/json; charset=utf-8"


def test_posting_goes_on_when_the_einvoice_cannot_be_built(app, make_user):
    from core.database import set_setting

    seeded = seed(app, make_user, enabled=True, endpoint="http://127.0.0.1:9/")
    with app.app_context():
        set_setting("company.economic_code", "")
        db.session.commit()
    invoice_id = two_line_invoice(app, seeded)
    with app.app_context():
        record = einvoice(invoice_id)
        assert record.status == "invalid" and record.tax_id is None
        assert "no seller economic code" in record.last_error
        record_id = record.id
        set_setting("company.economic_code", "10101010103")
        db.session.commit()
    # fixed in the settings: built again (the posted invoice keeps its own snapshot)
    assert build(app, invoice_id) == record_id
    with app.app_context():
        record = einvoice(invoice_id)
        assert record.status == "pending" and moadian.is_valid_tax_id(record.tax_id)
        assert record.payload["header"]["tins"] == "10101010103" and record.last_error == ""
