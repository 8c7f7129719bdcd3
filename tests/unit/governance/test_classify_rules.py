"""Tests for keel.governance.classify_rules: tag proposals for undescribed columns/tables."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keel.governance.classify_rules import (
    PII_LEVELS,
    ColumnProposal,
    classify_column,
    detect_value_kind,
    entity_type_for_table,
    luhn_valid,
    table_pii_level,
    table_vector_index,
)
from keel.project.sophia import TAG_KEYS

ENTITY_TYPES = TAG_KEYS["entity_type"]  # the Sophia project's allowed values


def _proposal(pii: str = "none", *, vector: bool = False, primary: bool = False) -> ColumnProposal:
    critical = pii != "none" or vector or primary
    return ColumnProposal(pii, primary, vector, critical, ())


# --------------------------------------------------------------------------- luhn


@pytest.mark.parametrize(
    "digits",
    [
        "4111111111111111",
        "79927398713",
        "5500000000000004",
        "378282246310005",
        "4111 1111-1111 1111",
    ],
)
def test_luhn_accepts_valid_numbers(digits: str) -> None:
    assert luhn_valid(digits) is True


@pytest.mark.parametrize(
    "digits",
    ["4111111111111112", "79927398710", "1234567812345678", "", "7", "4111a11111111111", "４１"],
)
def test_luhn_rejects_invalid_numbers_and_non_digits(digits: str) -> None:
    assert luhn_valid(digits) is False


@given(st.text(alphabet="0123456789", min_size=1, max_size=30))
@settings(database=None, max_examples=200)
def test_luhn_exactly_one_check_digit_completes_any_payload(payload: str) -> None:
    valid = [d for d in "0123456789" if luhn_valid(payload + d)]
    assert len(valid) == 1


# --------------------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("jane.doe@example.com", "email"),
        ("  Jane.Doe+crm@mail.example.co.uk ", "email"),
        ("+14155552671", "phone"),
        ("+44 20 7946 0958", "phone"),
        ("(415) 555-2671", "phone"),
        ("415-555-2671", "phone"),
        ("415.555.2671", "phone"),
        ("+1 415 555 2671 ext. 12", "phone"),
        ("123-45-6789", "national_id"),
        ("4111111111111111", "card_number"),
        ("4111 1111 1111 1111", "card_number"),
        ("5500-0000-0000-0004", "card_number"),
        ("192.168.1.20", "ip"),
        ("2001:db8::8a2e:370:7334", "ip"),
        ("::1", "ip"),
        ("1984-03-12", "birth_date"),
        ("12/03/1984", "birth_date"),
        ("03/31/1984", "birth_date"),
    ],
)
def test_detect_value_kind_recognises(value: str, kind: str) -> None:
    assert detect_value_kind(value) == kind


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "hello world",
        "not-an-email@",
        "a@b",
        "@example.com",
        "1234567890",  # bare integer: an id or an amount, not a phone
        "14155552671",
        "-1234567890",  # negative amount
        "12345678.90",  # decimal amount
        "1 234 567 890",  # thousands grouping
        "1.234.567.890",
        "4111111111111112",  # 16 digits failing Luhn
        "4111 1111 1111 1112",
        "000-12-3456",  # impossible SSN area
        "666-12-3456",
        "923-45-6789",
        "123-00-6789",
        "256.1.1.1",  # not an IPv4 address
        "1.2.3",
        "12:30",
        "2024-02-30",  # not a date
        "1850-01-01",  # implausible birth year
        "2024-01-15 10:30:00",
        "555-2671",  # too few digits for a phone
    ],
)
def test_detect_value_kind_rejects(value: str) -> None:
    assert detect_value_kind(value) is None


def test_detect_value_kind_ignores_long_free_text() -> None:
    assert detect_value_kind("4111 " + " " * 500 + "1111") is None
    assert detect_value_kind("call me at +1 415 555 2671 " * 20) is None
    assert detect_value_kind("a" * 300 + "@example.com") is None


# --------------------------------------------------------------------------- names -> pii


@pytest.mark.parametrize(
    ("name", "data_type", "level"),
    [
        # e-mail
        ("email", "VARCHAR", "high"),
        ("EMAIL_ADDRESS", "VARCHAR(16777216)", "high"),
        ("e_mail", "varchar", "high"),
        ("contactEmail", "text", "high"),
        ("WORKEMAIL", "VARCHAR", "high"),
        # phone
        ("phone", "VARCHAR", "high"),
        ("PHONE_NUMBER", "VARCHAR", "high"),
        ("mobile", "varchar", "high"),
        ("tel", "varchar", "high"),
        ("fax", "varchar", "high"),
        ("mobilePhone", "varchar", "high"),
        ("HOMEPHONE", "VARCHAR", "high"),
        ("phone", "NUMBER(38,0)", "high"),
        # people's names
        ("first_name", "VARCHAR", "high"),
        ("last_name", "VARCHAR", "high"),
        ("full_name", "VARCHAR", "high"),
        ("real_name", "VARCHAR", "high"),
        ("lastName", "varchar", "high"),
        ("FIRSTNAME", "VARCHAR", "high"),
        ("surname", "VARCHAR", "high"),
        ("contact_name", "VARCHAR", "high"),
        ("owner_name", "VARCHAR", "high"),
        ("account_owner_name", "VARCHAR", "high"),
        ("display_name", "VARCHAR", "high"),
        ("name_first", "VARCHAR", "high"),
        # names that are not (quite) people
        ("name", "VARCHAR", "low"),
        ("company_name", "VARCHAR", "low"),
        ("COMPANYNAME", "VARCHAR", "low"),
        ("account_name", "VARCHAR", "low"),
        ("contact_company_name", "VARCHAR", "low"),
        ("user_name", "VARCHAR", "low"),
        ("username", "VARCHAR", "low"),
        ("channel_name", "VARCHAR", "none"),
        ("product_name", "VARCHAR", "none"),
        ("deal_name", "VARCHAR", "none"),
        ("DEALNAME", "VARCHAR", "none"),
        ("file_name", "VARCHAR", "none"),
        ("hostname", "VARCHAR", "none"),
        # addresses
        ("address", "VARCHAR", "high"),
        ("billing_address", "VARCHAR", "high"),
        ("address_line1", "VARCHAR", "high"),
        ("street", "VARCHAR", "high"),
        ("zip", "VARCHAR", "high"),
        ("zip_code", "VARCHAR", "high"),
        ("postal_code", "VARCHAR", "high"),
        ("POSTALCODE", "VARCHAR", "high"),
        ("address", "VARIANT", "high"),
        ("city", "VARCHAR", "low"),
        ("country", "VARCHAR", "none"),
        ("mac_address", "VARCHAR", "low"),
        ("web_address", "VARCHAR", "none"),
        # birth dates
        ("birth_date", "DATE", "sensitive"),
        ("birthdate", "DATE", "sensitive"),
        ("dob", "DATE", "sensitive"),
        ("DATE_OF_BIRTH", "TIMESTAMP_NTZ(9)", "sensitive"),
        ("dateOfBirth", "varchar", "sensitive"),
        ("birthday", "VARCHAR", "sensitive"),
        # national ids
        ("ssn", "VARCHAR", "sensitive"),
        ("social_security_number", "VARCHAR", "sensitive"),
        ("national_id", "VARCHAR", "sensitive"),
        ("tax_id", "VARCHAR", "sensitive"),
        ("TAXID", "VARCHAR", "sensitive"),
        ("passport", "VARCHAR", "sensitive"),
        ("passport_number", "VARCHAR", "sensitive"),
        ("nin", "VARCHAR", "sensitive"),
        ("ssn", "NUMBER", "sensitive"),
        # payment data
        ("card_number", "VARCHAR", "sensitive"),
        ("credit_card", "VARCHAR", "sensitive"),
        ("creditCardNumber", "VARCHAR", "sensitive"),
        ("pan", "VARCHAR", "sensitive"),
        ("iban", "VARCHAR", "sensitive"),
        ("account_number", "VARCHAR", "sensitive"),
        ("card_number", "NUMBER(19,0)", "sensitive"),
        # ip addresses
        ("ip", "VARCHAR", "high"),
        ("ip_address", "VARCHAR", "high"),
        ("IPAddress", "VARCHAR", "high"),
        ("client_ip", "VARCHAR", "high"),
        # secrets
        ("password", "VARCHAR", "sensitive"),
        ("password_hash", "VARCHAR", "sensitive"),
        ("client_secret", "VARCHAR", "sensitive"),
        ("token", "VARCHAR", "sensitive"),
        ("access_token", "VARCHAR", "sensitive"),
        ("refreshToken", "VARCHAR", "sensitive"),
        ("api_key", "VARCHAR", "sensitive"),
    ],
)
def test_pii_level_from_name(name: str, data_type: str, level: str) -> None:
    proposal = classify_column(name, data_type, [])
    assert proposal.pii_level == level
    if level != "none":
        assert proposal.critical
        assert proposal.reasons


@pytest.mark.parametrize(
    ("name", "data_type"),
    [
        ("email_count", "NUMBER"),
        ("num_emails", "NUMBER"),
        ("number_of_phones", "NUMBER"),
        ("email_type", "VARCHAR"),
        ("email_opt_out", "VARCHAR"),
        ("is_email_verified", "BOOLEAN"),
        ("email", "BOOLEAN"),  # a flag, not an address
        ("email", "NUMBER"),
        ("email_sent_at", "TIMESTAMP_TZ"),
        ("phone", "TIMESTAMP"),
        ("first_name", "NUMBER"),
        ("token_count", "NUMBER"),
        ("prompt_tokens", "INTEGER"),
        ("password_changed_at", "TIMESTAMP"),
        ("zipper_color", "VARCHAR"),
        ("tip", "VARCHAR"),
        ("shipping_method", "VARCHAR"),
        ("amount", "NUMBER(38,2)"),
        ("state", "VARCHAR"),
        ("title", "VARCHAR"),
        ("sort_key", "VARCHAR"),
    ],
)
def test_pii_name_rules_do_not_fire_on_counters_flags_and_wrong_types(
    name: str, data_type: str
) -> None:
    assert classify_column(name, data_type, []).pii_level == "none"


@pytest.mark.parametrize("name", ["email_id", "phone_id", "contact_name_id", "address_key"])
def test_references_named_after_pii_are_identifiers_not_pii(name: str) -> None:
    proposal = classify_column(name, "VARCHAR", [])
    assert proposal.pii_level == "none"
    assert proposal.critical


# --------------------------------------------------------------------------- values -> pii

EMAILS = ["ann@example.com", "bob@example.org", "carol@corp.example.net"]
PHONES = ["+1 415 555 2671", "(212) 555-0100", "+44 20 7946 0958"]
SSNS = ["123-45-6789", "234-56-7890", "345-67-8901"]
CARDS = ["4111111111111111", "5500 0000 0000 0004", "3782-822463-10005"]
IPS = ["10.0.0.1", "192.168.1.20", "2001:db8::1"]


@pytest.mark.parametrize(
    ("samples", "level", "label"),
    [
        (EMAILS, "high", "emails"),
        (PHONES, "high", "phone numbers"),
        (SSNS, "sensitive", "national ids"),
        (CARDS, "sensitive", "card numbers"),
        (IPS, "high", "IP addresses"),
    ],
)
def test_pii_level_from_values(samples: list[str], level: str, label: str) -> None:
    proposal = classify_column("col_17", "VARCHAR", samples)
    assert proposal.pii_level == level
    assert proposal.critical
    assert f"3/3 sampled values are {label}" in " ".join(proposal.reasons)


def test_value_threshold_is_half_of_the_non_null_samples() -> None:
    half = ["ann@example.com", "bob@example.org", "n/a", "unknown"]
    assert classify_column("contact", "VARCHAR", half).pii_level == "high"
    minority = ["ann@example.com", "bob@example.org", "n/a", "unknown", "none"]
    assert classify_column("contact", "VARCHAR", minority).pii_level == "none"


def test_nulls_and_blanks_are_ignored_when_counting() -> None:
    samples: list[str | None] = [None, None, "ann@example.com", None, "bob@example.org", "  "]
    proposal = classify_column("contact", "VARCHAR", samples)
    assert proposal.pii_level == "high"
    assert "2/2 sampled values are emails" in proposal.reasons


def test_single_sample_is_enough_when_it_is_the_only_one() -> None:
    assert classify_column("x", "VARCHAR", ["ann@example.com"]).pii_level == "high"
    assert classify_column("x", "VARCHAR", [None, "ann@example.com", None]).pii_level == "high"


def test_one_match_out_of_two_is_not_enough() -> None:
    assert classify_column("x", "VARCHAR", ["ann@example.com", "hello"]).pii_level == "none"


def test_all_null_samples_give_nothing() -> None:
    proposal = classify_column("x", "VARCHAR", [None, None])
    assert dataclasses.replace(proposal, evidence=()) == ColumnProposal(
        "none", False, False, False, ()
    )
    assert [e.as_dict() for e in proposal.evidence] == [
        {
            "rule": "no_match",
            "pii_level": "none",
            "detail": "no rule matched the name or no sampled values",
        }
    ]


@pytest.mark.parametrize(
    ("name", "data_type", "samples"),
    [
        ("amount", "NUMBER(38,2)", ["1234567890", "2345678901", "3456789012"]),
        ("amount", "VARCHAR", ["12345678.90", "-1234567890", "1 234 567 890"]),
        ("order_number", "VARCHAR", ["20240115001", "20240115002", "20240115003"]),
        ("reference", "VARCHAR", ["4111111111111112", "4111111111111113", "1234567812345678"]),
        ("created_on", "DATE", ["1984-03-12", "1990-01-01", "2001-12-31"]),
        ("signup_date", "VARCHAR", ["1984-03-12", "1990-01-01", "2001-12-31"]),
        ("version", "VARCHAR", ["1.2.3", "10.4.1", "2.0.0"]),
        ("label", "VARCHAR", ["alpha", "beta", None]),
    ],
)
def test_value_rules_do_not_fire_on_lookalikes(
    name: str, data_type: str, samples: list[str | None]
) -> None:
    proposal = classify_column(name, data_type, samples)
    assert proposal.pii_level == "none"


def test_dates_count_as_birth_dates_only_when_the_name_hints_at_birth() -> None:
    dates = ["1984-03-12", "1990-01-01", "1975-07-04"]
    assert classify_column("event_date", "VARCHAR", dates).pii_level == "none"
    hinted = classify_column("dob", "VARCHAR", dates)
    assert hinted.pii_level == "sensitive"
    assert "3/3 sampled values are dates" in hinted.reasons


def test_final_level_is_the_max_of_name_and_values() -> None:
    # name says low (generic name), values say high (emails)
    assert classify_column("name", "VARCHAR", EMAILS).pii_level == "high"
    # name says sensitive and values agree (digits), values say high: sensitive wins
    mixed = ["123-45-6789", "ann@example.com", "bob@example.org", "cy@example.net"]
    assert classify_column("ssn", "VARCHAR", mixed).pii_level == "sensitive"
    # name says sensitive but no value could be one: the values win (high, for the emails)
    overruled = classify_column("ssn", "VARCHAR", EMAILS)
    assert overruled.pii_level == "high"
    assert overruled.evidence[0].rule == "name_overruled"
    # name says none, values say sensitive
    assert classify_column("reference", "VARCHAR", SSNS).pii_level == "sensitive"


# --------------------------------------------------------------------------- airbyte meta


@pytest.mark.parametrize(
    "name",
    [
        "_AIRBYTE_RAW_ID",
        "_AIRBYTE_EXTRACTED_AT",
        "_AIRBYTE_META",
        "_AIRBYTE_GENERATION_ID",
        "_airbyte_raw_id",
        "_AB_CDC_UPDATED_AT",
        "_AB_CDC_LSN",
        "_ab_cdc_deleted_at",
    ],
)
def test_airbyte_meta_columns_are_never_pii_nor_critical(name: str) -> None:
    proposal = classify_column(name, "VARCHAR", EMAILS)
    assert proposal.pii_level == "none"
    assert proposal.critical is False
    assert proposal.is_primary_identifier is False
    assert proposal.vector_index is False


# --------------------------------------------------------------------------- identifiers


@pytest.mark.parametrize(
    "name",
    ["id", "ID", "Id", "_id", "uuid", "GUID", "pk", "customer_key", "CALL_KEY", "hs_object_id"],
)
def test_primary_identifiers(name: str) -> None:
    proposal = classify_column(name, "VARCHAR", [])
    assert proposal.is_primary_identifier is True
    assert proposal.critical is True
    assert proposal.pii_level == "none"
    assert proposal.vector_index is False


@pytest.mark.parametrize(
    "name", ["company_id", "COMPANY_ID", "userId", "CUSTOMERID", "owner_uuid", "tag_ids", "deal_fk"]
)
def test_foreign_key_like_ids_are_critical_but_not_primary(name: str) -> None:
    proposal = classify_column(name, "VARCHAR", [])
    assert proposal.is_primary_identifier is False
    assert proposal.critical is True
    assert proposal.pii_level == "none"


@pytest.mark.parametrize("name", ["api_key", "sort_key", "partition_key", "paid", "void", "valid"])
def test_not_identifiers(name: str) -> None:
    assert classify_column(name, "VARCHAR", []).is_primary_identifier is False


@pytest.mark.parametrize("name", ["sort_key", "paid", "void", "valid", "status"])
def test_non_identifiers_are_not_critical(name: str) -> None:
    assert classify_column(name, "VARCHAR", []).critical is False


# --------------------------------------------------------------------------- cursors


@pytest.mark.parametrize(
    ("name", "data_type"),
    [
        ("updated_at", "TIMESTAMP_TZ"),
        ("UPDATED_AT", "TIMESTAMP_NTZ(9)"),
        ("updatedAt", "timestamp"),
        ("modified_at", "TIMESTAMP"),
        ("last_modified", "TIMESTAMP"),
        ("lastModifiedDate", "VARCHAR"),
        ("HS_LASTMODIFIEDDATE", "TIMESTAMP_TZ"),
        ("SystemModstamp", "TIMESTAMP"),
        ("ts", "VARCHAR"),
        ("event_ts", "NUMBER"),
        ("timestamp", "TIMESTAMP"),
    ],
)
def test_cursor_like_columns_are_critical_without_pii(name: str, data_type: str) -> None:
    proposal = classify_column(name, data_type, ["2024-01-15T10:30:00Z"])
    assert proposal.critical is True
    assert proposal.pii_level == "none"
    assert proposal.is_primary_identifier is False
    assert proposal.vector_index is False


@pytest.mark.parametrize(
    ("name", "data_type"),
    [
        ("created_at", "TIMESTAMP"),
        ("updated_by", "VARCHAR"),
        ("is_updated", "BOOLEAN"),
        ("updated", "BOOLEAN"),
        ("closed_date", "DATE"),
    ],
)
def test_non_cursor_columns_are_not_critical(name: str, data_type: str) -> None:
    assert classify_column(name, data_type, []).critical is False


# --------------------------------------------------------------------------- vector index


@pytest.mark.parametrize(
    ("name", "data_type"),
    [
        ("transcript", "VARCHAR"),
        ("TRANSCRIPT_TEXT", "VARCHAR(16777216)"),
        ("body", "TEXT"),
        ("text", "STRING"),
        ("content", "varchar"),
        ("description", "VARCHAR(4000)"),
        ("notes", "character varying(1024)"),
        ("comment", "VARCHAR"),
        ("message", "VARCHAR"),
        ("summary", "VARCHAR"),
        ("bio", "VARCHAR"),
        ("email_body", "TEXT"),
        ("callSummary", "VARCHAR"),
    ],
)
def test_vector_index_from_name_hint(name: str, data_type: str) -> None:
    proposal = classify_column(name, data_type, ["short"])
    assert proposal.vector_index is True
    assert proposal.critical is True


def test_vector_index_from_long_values() -> None:
    long_text = "We discussed the renewal and the pricing of the enterprise plan. " * 4
    proposal = classify_column("payload", "VARCHAR", [long_text, long_text, None])
    assert proposal.vector_index is True
    assert proposal.critical is True
    assert any("long values" in r for r in proposal.reasons)


def test_short_values_without_a_hint_are_not_vector_indexed() -> None:
    proposal = classify_column("payload", "VARCHAR", ["x" * 150, "y" * 199])
    assert proposal.vector_index is False
    assert proposal.critical is False


@pytest.mark.parametrize(
    ("name", "data_type", "samples"),
    [
        ("body", "VARIANT", []),  # semi-structured
        ("content", "JSON", []),
        ("text", "VARCHAR[]", []),
        ("description", "NUMBER", []),
        ("notes", "VARCHAR(50)", []),  # declared too short for free text
        ("message_type", "VARCHAR", []),
        ("message_id", "VARCHAR", []),
        ("content_length", "VARCHAR", []),
        ("body_url", "VARCHAR", []),
        ("id", "VARCHAR", ["x" * 500]),
        ("email", "VARCHAR", ["x" * 500]),
        ("updated_at", "VARCHAR", ["x" * 500]),
        ("payload", "VARIANT", ["x" * 500]),
    ],
)
def test_not_vector_indexed(name: str, data_type: str, samples: list[str | None]) -> None:
    assert classify_column(name, data_type, samples).vector_index is False


# --------------------------------------------------------------------------- critical


def test_plain_attribute_is_not_critical() -> None:
    proposal = classify_column("status", "VARCHAR", ["open", "closed"])
    assert dataclasses.replace(proposal, evidence=()) == ColumnProposal(
        "none", False, False, False, ()
    )
    assert [e.rule for e in proposal.evidence] == ["no_match"]
    assert "2 sampled values" in proposal.evidence[0].detail


def test_low_pii_is_critical() -> None:
    proposal = classify_column("city", "VARCHAR", ["Berlin"])
    assert (proposal.pii_level, proposal.critical) == ("low", True)


def test_proposal_is_frozen() -> None:
    proposal = classify_column("id", "VARCHAR", [])
    with pytest.raises(AttributeError):
        proposal.pii_level = "high"  # type: ignore[misc]


# --------------------------------------------------------------------------- tables


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        ([], "none"),
        (["none", "none"], "none"),
        (["none", "low"], "low"),
        (["low", "high", "none"], "high"),
        (["high", "sensitive", "low"], "sensitive"),
        (["sensitive"], "sensitive"),
    ],
)
def test_table_pii_level_is_the_max(levels: list[str], expected: str) -> None:
    assert table_pii_level([_proposal(level) for level in levels]) == expected


def test_table_vector_index_is_any() -> None:
    assert table_vector_index([]) is False
    assert table_vector_index([_proposal(), _proposal("high")]) is False
    assert table_vector_index([_proposal(), _proposal(vector=True)]) is True


def test_table_level_from_classified_columns() -> None:
    columns = [
        classify_column("id", "VARCHAR", []),
        classify_column("email", "VARCHAR", EMAILS),
        classify_column("transcript", "VARCHAR", ["..."]),
        classify_column("_AIRBYTE_RAW_ID", "VARCHAR", []),
    ]
    assert table_pii_level(columns) == "high"
    assert table_vector_index(columns) is True


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        # exact, after singularising
        ("calls", "call"),
        ("CALLS", "call"),
        ("companies", "company"),
        ("messages", "message"),
        ("invoices", "invoice"),
        ("purchases", "purchase"),
        ("users", "user"),
        ("deal", "deal"),
        # head noun of a compound name
        ("channel_messages", "message"),
        ("company_contacts", "contact"),
        ("contact_lists", "contact"),
        # prefixes, suffixes and qualifiers stripped
        ("raw_calls", "call"),
        ("stg_companies", "company"),
        ("users_history", "user"),
        ("deals_v2", "deal"),
        ("GONG_DATA_RAW.CALLS", "call"),
        ('"HUBSPOT_DATA"."COMPANIES"', "company"),
        # synonyms
        ("accounts", "company"),
        ("organizations", "company"),
        ("people", "user"),
        ("persons", "user"),
        ("members", "user"),
        ("emails", "message"),
        ("opportunities", "deal"),
        ("orders", "purchase"),
        ("transcripts", "call"),
        ("call_transcripts", "call"),
        ("meetings", "call"),
        ("staff", "employee"),
        ("clients", "customer"),
        ("bills", "invoice"),
        ("raw_accounts_history", "company"),
        # substring of an allowed value
        ("crm_contact_list", "contact"),
        ("crmcontactlist", "contact"),
        ("hubspotdeals", "deal"),
        ("SLACKCHANNELS", "channel"),
        # nothing matches
        ("audit_log", "other"),
        ("foo", "other"),
        ("", "other"),
    ],
)
def test_entity_type_for_table(table: str, expected: str) -> None:
    assert entity_type_for_table(table, ENTITY_TYPES) == expected


def test_entity_type_singularises_es_plurals() -> None:
    assert entity_type_for_table("addresses", ["address", "other"]) == "address"
    assert entity_type_for_table("boxes", ["box", "other"]) == "box"
    assert entity_type_for_table("addresses", ENTITY_TYPES) == "other"


def test_entity_type_falls_back_to_first_allowed_without_other() -> None:
    assert entity_type_for_table("mystery_table", ["deal", "call"]) == "deal"


def test_entity_type_synonym_needs_its_target_to_be_allowed() -> None:
    # accounts -> company, else customer; neither allowed -> fallback
    assert entity_type_for_table("accounts", ["customer", "other"]) == "customer"
    assert entity_type_for_table("accounts", ["deal", "other"]) == "other"


def test_entity_type_returns_the_allowed_spelling() -> None:
    assert entity_type_for_table("calls", ["Call", "Other"]) == "Call"
    assert entity_type_for_table("zzz", ["Call", "Other"]) == "Other"


def test_entity_type_rejects_empty_allowed() -> None:
    with pytest.raises(ValueError, match="at least one"):
        entity_type_for_table("calls", [])


@given(table=st.text(max_size=60), allowed=st.lists(st.text(max_size=20), min_size=1, max_size=8))
@settings(database=None, max_examples=400)
def test_entity_type_always_returns_an_allowed_value(table: str, allowed: list[str]) -> None:
    assert entity_type_for_table(table, allowed) in allowed


@given(table=st.text(max_size=60))
@settings(database=None, max_examples=300)
def test_entity_type_with_the_sophia_values_is_always_allowed(table: str) -> None:
    assert entity_type_for_table(table, ENTITY_TYPES) in ENTITY_TYPES


@given(
    name=st.text(max_size=40),
    data_type=st.sampled_from(["VARCHAR", "NUMBER(38,0)", "BOOLEAN", "DATE", "VARIANT", ""]),
    samples=st.lists(st.none() | st.text(max_size=40), max_size=6),
)
@settings(database=None, max_examples=300)
def test_classify_column_is_total(name: str, data_type: str, samples: list[str | None]) -> None:
    proposal = classify_column(name, data_type, samples)
    assert proposal.pii_level in PII_LEVELS
    if proposal.pii_level != "none" or proposal.vector_index or proposal.is_primary_identifier:
        assert proposal.critical
