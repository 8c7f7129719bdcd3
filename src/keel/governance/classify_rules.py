"""Rules that propose SOPHIA_AI_METADATA tags for tables and columns no contract describes.

Everything here is a pure function of a column's name, its declared data type and a
handful of sampled values (strings, ``None`` for SQL NULL). Nothing reads the warehouse;
the caller samples and then decides what to do with the proposal.

Column names
    Names are split into lower-case tokens, so ``EMAIL_ADDRESS`` (Snowflake),
    ``emailAddress`` (camelCase) and ``email-address`` all read as ``email address``.
    Some sources arrive with camelCase flattened by an unquoted upper-casing
    (``FIRSTNAME``, ``HS_LASTMODIFIEDDATE``), so a few compound tokens are recognised too.

Airbyte metadata
    ``_AIRBYTE_*`` (``_AIRBYTE_RAW_ID``, ``_AIRBYTE_EXTRACTED_AT``, ``_AIRBYTE_META``,
    ``_AIRBYTE_GENERATION_ID``, ...) and ``_AB_CDC_*`` columns are bookkeeping: never PII,
    never an identifier, never critical, whatever their values look like.

``pii_level`` ("none" < "low" < "high" < "sensitive") is the maximum of the signals
below that are not overruled (each recorded as :class:`Evidence` on the proposal):

* the name: e-mail, phone/mobile/tel/fax, a person's name (``first_name``,
  ``contact_name``, ``owner_name``, ``FIRSTNAME``), a postal address (address, street,
  zip, postal code) and IP addresses are ``high``; birth dates, national ids (SSN,
  passport, tax id, NIN, driver's licence), payment data (card number, IBAN, account
  number, CVV) and secrets (password, secret, token, api key) are ``sensitive``;
  ``city``, a plain ``name``, a company-like name (``company_name``, ``account_name``)
  and a login handle (``user_name``) are ``low``; names of things that are not people
  (``channel_name``, ``product_name``, ``deal_name``) are ``none``. A name only counts
  where the data type can hold such a value: a boolean never, a date/timestamp only for
  a birth date, a number only for phone, national-id, card and birth data. Counters
  and attributes *about* a value are not the value (``email_count``, ``email_type``,
  ``is_email_verified``, ``num_phones``), nor is text about a value (``email_body`` is
  judged as free text), nor are references to another row ending in ``_id``/``_key``
  (``email_id``) -- except national and tax ids, which are the value. Weak personal
  data is ``low``: time zone, job title, spoken language / locale, phone extension.
  The rules are the table ``NAME_RULES`` in :mod:`keel.governance.classify.names`;
  the words they match are in :mod:`keel.governance.classify.vocab`.
* values overrule names: with at least three sampled values, a name rule whose kind
  the values contradict (enum-like codes for any kind; no email in an email column,
  too few digits for a phone, card or national id, nothing name-shaped for a person's
  name, no person's name or handle for a generic ``name``) is dropped, and the next
  matching name rule is considered.
* people in values: short values that are person names (a given name from
  :mod:`keel.governance.classify.given_names` first) in at least half the samples, or
  job titles (``low``); free text (several words per value, or a prose name) where at
  least a fifth of the values contain a personal email, a phone number or a named
  person (:mod:`keel.governance.classify.text`).
* JSON documents (at least half the values parse as objects/arrays) are read key by key
  (:mod:`keel.governance.classify.structured`) and take their most sensitive key's
  level, naming the keys.
* the sampled values: the non-null, non-blank samples are classified with
  :func:`detect_value_kind`; a kind matching at least half of them (and at least two
  values, or the single value when only one was sampled) gives ``email`` -> high,
  ``phone`` -> high, ``ip`` -> high, ``national_id`` -> sensitive, ``card_number`` ->
  sensitive, ``social_profile`` -> high, ``timezone`` -> low. Email-shaped technical
  identifiers (message ids, calendar UIDs) are not emails. ``birth_date`` (any plausible calendar date) only counts when the column
  name already hints at a birth date -- dates alone are not PII.

``is_primary_identifier``
    Only the name is known, not the table's key, so this is a naming convention: ``id``
    (also ``_id``, ``ID``), ``uuid``, ``guid``, ``pk``, ``<something>_key`` (but not
    secrets such as ``api_key`` nor physical-design keys such as ``sort_key``), and the
    self-referencing ids some sources use for the row's own key (``internal_id``,
    ``record_id``, ``object_id`` as in HubSpot's ``hs_object_id``). A plain ``<x>_id``
    (``company_id``, ``userId``, ``CUSTOMERID``) is taken as a foreign key: not primary,
    but still an identifier and therefore critical.

``vector_index``
    Long free text worth embedding: the data type must be text-like (varchar, text,
    string, char; not json/variant/arrays, and not a declared length under 200) and
    either the name hints at prose (transcript, body, text, content, description,
    notes, comment, message, summary, bio, ...) or the sampled values average at least
    200 characters. Identifiers, cursors and columns with a name-based PII kind
    (``email``, ``phone``, ...) are never vector-indexed, nor are attributes of the text
    (``message_type``, ``content_length``, ``body_url``). Being free text does not by
    itself raise ``pii_level``: that still comes from the name and the sampled values.

``critical``
    The column must carry a tag: it is an identifier (primary or foreign), has
    ``pii_level`` other than "none", is vector-indexed, or is a cursor-like column
    (``updated_at``, ``modified_at``, ``last_modified``, ``lastModifiedDate``, ``ts``,
    ``timestamp``, ``SystemModstamp``), which is critical with ``pii_level`` "none".
    ``created_at`` is deliberately not treated as a cursor.

Tables
    :func:`table_pii_level` is the maximum column level, :func:`table_vector_index` is
    true when any column is vector-indexed, and :func:`entity_type_for_table` maps a table
    name onto one of the allowed ``entity_type`` values: it drops a schema/database
    qualifier, staging prefixes (``raw_``, ``stg_``, ``dim_``, ...) and version/history
    suffixes (``_v2``, ``_history``, ``_snapshot``, ...), singularises the words
    (``companies`` -> ``company``, ``addresses`` -> ``address``), then tries the whole name
    and each word from the last (the head noun, ``channel_messages`` -> ``message``) to the
    first, exactly and through synonyms (``accounts`` -> company, ``people`` -> user,
    ``opportunities`` -> deal, ``transcripts`` -> call, ...), then an allowed value
    occurring inside the name (``crmcontactlist`` -> contact), and finally ``other`` if
    allowed, else the first allowed value.
"""

from __future__ import annotations

from keel.governance.classify.column import (
    ColumnProposal,
    Evidence,
    classify_column,
    table_pii_level,
    table_vector_index,
)
from keel.governance.classify.tables import entity_type_for_table
from keel.governance.classify.values import detect_value_kind, luhn_valid
from keel.governance.classify.vocab import PII_LEVELS

__all__ = [
    "PII_LEVELS",
    "ColumnProposal",
    "Evidence",
    "classify_column",
    "detect_value_kind",
    "entity_type_for_table",
    "luhn_valid",
    "table_pii_level",
    "table_vector_index",
]
