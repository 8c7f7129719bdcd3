"""Snowflake statement helpers: privilege words, masking policy, refusal hints.

Facts from docs.snowflake.com (paths in brackets)."""

from __future__ import annotations

from collections.abc import Callable

from keel.resources import GrantObject, OnSchema

# keel's privilege words -> Snowflake's. Schema-level CREATE is per object type
# [user-guide/security-access-control-privileges: CREATE TABLE, CREATE VIEW, CREATE STAGE]
SCHEMA_WORDS = {"CREATE": ("CREATE TABLE", "CREATE VIEW")}
# what SHOW GRANTS reports -> keel's word (CREATE VIEW is read with CREATE TABLE)
READ_WORDS = {"CREATE TABLE": "CREATE"}
# the privileges keel grants and revokes; anything else SHOW GRANTS lists (OWNERSHIP,
# REFERENCES, MONITOR, ...) is not keel's and is never revoked
GRANTABLE = frozenset(
    {"USAGE", "CREATE TABLE", "CREATE VIEW", "CREATE STAGE", "SELECT", "INSERT", "UPDATE", "DELETE"}
)
MASK = "***MASKED***"
MASKING_POLICY = "KEEL_MASK_STRING"  # in SOPHIA_OPS


def privileges_for(privilege: str, on: GrantObject) -> tuple[str, ...]:
    if isinstance(on, OnSchema):
        return SCHEMA_WORDS.get(privilege, (privilege,))
    return (privilege,)


def masking_policy_sql(
    policy: str, tag: str, entries: list[str], lit: Callable[[object], str]
) -> list[str]:
    """A tag-based masking policy for text columns [user-guide/tag-based-masking-policies;
    sql-reference/sql/create-masking-policy; functions/system_get_tag_on_current_column;
    functions/is_role_in_session]: a column whose metadata tag says a masked pii_level reads
    in clear only for the roles listed (``LEVEL:ROLE`` entries), masked for everyone else.
    The policy's comment records the entries, so the state is read back exactly. Enterprise
    edition only. Text columns only (one policy per data type; others are reported)."""
    by_level: dict[str, list[str]] = {}
    for entry in entries:
        level, _, role = entry.partition(":")
        by_level.setdefault(level, [])
        if role:
            by_level[level].append(role)
    level_expr = (
        f"PARSE_JSON(SYSTEM$GET_TAG_ON_CURRENT_COLUMN({lit(tag_name(tag))})):pii_level::STRING"
    )
    whens = []
    for level, roles in sorted(by_level.items()):
        clear = " OR ".join(f"IS_ROLE_IN_SESSION({lit(r)})" for r in sorted(roles)) or "FALSE"
        whens.append(f"WHEN {level_expr} = {lit(level)} AND NOT ({clear}) THEN {lit(MASK)}")
    body = "CASE " + " ".join(whens) + " ELSE VAL END" if whens else "VAL"
    comment = "keel:" + ",".join(sorted(entries))
    return [
        f"CREATE MASKING POLICY IF NOT EXISTS {policy} AS (VAL STRING) RETURNS STRING -> VAL",
        f"ALTER MASKING POLICY {policy} SET BODY -> {body}",
        f"ALTER MASKING POLICY {policy} SET COMMENT = {lit(comment)}",
        # FORCE replaces a policy of the same type already on the tag [sql-reference/sql/alter-tag]
        f"ALTER TAG {tag} SET MASKING POLICY {policy} FORCE",
    ]


def tag_name(quoted: str) -> str:
    """'"DB"."S"."T"' -> 'DB.S.T' (the function takes the name as a string)."""
    return ".".join(p.strip('"') for p in quoted.split('"."'))


# the privilege a refused statement needs [user-guide/security-access-control-privileges]
_NEEDS = (
    ("CREATE ROLE", "CREATE ROLE on the account (USERADMIN has it; set warehouse.roles_as)"),
    ("GRANT ROLE", "MANAGE GRANTS or ownership of the role (SECURITYADMIN; warehouse.grants_as)"),
    ("REVOKE ROLE", "MANAGE GRANTS or ownership of the role (SECURITYADMIN; warehouse.grants_as)"),
    (
        "GRANT ",
        "MANAGE GRANTS (SECURITYADMIN; set warehouse.grants_as) or ownership of the "
        "schema in a managed access schema",
    ),
    ("REVOKE ", "MANAGE GRANTS (SECURITYADMIN; set warehouse.grants_as)"),
    ("CREATE SCHEMA", "CREATE SCHEMA on the database"),
    ("CREATE TAG", "CREATE TAG on schema SOPHIA_OPS"),
    ("ALTER TAG", "APPLY MASKING POLICY on the account (and ownership of the tag)"),
    ("CREATE MASKING POLICY", "CREATE MASKING POLICY on schema SOPHIA_OPS"),
    ("ALTER MASKING POLICY", "ownership of the masking policy"),
    ("ALTER SCHEMA", "ownership of the schema (or APPLY TAG on the account for tags)"),
    ("ALTER TABLE", "APPLY TAG on the account, or ownership of the table"),
    ("ALTER VIEW", "APPLY TAG on the account, or ownership of the view"),
    ("USE ROLE", "the role granted to keel's user"),
    ("SELECT", "IMPORTED PRIVILEGES on the SNOWFLAKE database (ACCOUNT_USAGE) or USAGE"),
)


def missing_privilege(sql: str, message: str) -> str:
    """A hint naming the privilege a refused statement needs (empty when not a privilege
    error). Snowflake says "Insufficient privileges to operate on ..." or "... does not exist
    or not authorized" [user-guide/security-access-control-overview]."""
    lowered = message.lower()
    if "insufficient privileges" not in lowered and "not authorized" not in lowered:
        return ""
    head = sql.lstrip().upper()
    for prefix, needs in _NEEDS:
        if head.startswith(prefix):
            return f"\n  keel's role needs {needs}."
    return ""
