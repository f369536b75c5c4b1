"""SMS parts: Persian (UCS-2) 70 per part, 67 when split; Latin (GSM-7) 160, 153 when split."""

from hypothesis import given
from hypothesis import strategies as st

from modules.marketing.sms_length import GSM_BASIC, GSM_EXTENDED, sms_length


def test_persian_text_parts():
    assert sms_length("س" * 70).parts == 1
    assert sms_length("س" * 71).parts == 2
    assert sms_length("س" * 134).parts == 2
    assert sms_length("س" * 135).parts == 3
    one = sms_length("سلام، سفارش شما ارسال شد.")
    assert (one.encoding, one.per_part, one.remaining) == ("ucs2", 70, 70 - one.units)


def test_latin_text_parts():
    assert sms_length("a" * 160).parts == 1
    assert sms_length("a" * 161).parts == 2
    assert sms_length("a" * 306).parts == 2
    assert sms_length("a" * 307).parts == 3


def test_one_persian_letter_turns_a_latin_text_into_ucs2():
    text = "a" * 100 + "ی"
    assert sms_length(text).encoding == "ucs2"
    assert sms_length(text).parts == 2  # 101 > 70


def test_extension_characters_count_twice_and_emoji_take_two_units():
    assert sms_length("{" * 80).units == 160
    assert sms_length("{" * 81).parts == 2
    assert sms_length("😀").units == 2


def test_empty_text_has_no_part():
    assert sms_length("").parts == 0


def _expected_parts(units: int, single: int, multi: int) -> int:
    if units == 0:
        return 0
    return 1 if units <= single else -(-units // multi)


@given(st.text(alphabet=st.sampled_from(sorted(GSM_BASIC | GSM_EXTENDED)), max_size=700))
def test_gsm_texts(text):
    result = sms_length(text)
    units = sum(2 if ch in GSM_EXTENDED else 1 for ch in text)
    assert result.encoding == "gsm"
    assert result.units == units
    assert result.parts == _expected_parts(units, 160, 153)
    assert 0 <= result.remaining < result.per_part or result.parts <= 1


@given(st.text(alphabet=st.characters(min_codepoint=0x0600, max_codepoint=0x06FF), min_size=1,
               max_size=500))
def test_persian_texts(text):
    result = sms_length(text)
    assert result.encoding == "ucs2"
    assert result.parts == _expected_parts(len(text), 70, 67)
    assert result.parts * result.per_part - result.units == result.remaining
