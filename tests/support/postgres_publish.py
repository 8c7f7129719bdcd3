"""What keel's publish does to a masked table on PostgreSQL, for the access tests: create
``hubspot_data.contacts`` with one row and apply its masking in the same transaction."""

from __future__ import annotations

from keel.adapters.postgres import PostgresAdapter


def publish_masked_contacts(admin_dsn: str) -> list[str]:
    """Create and mask the contacts table as the admin connection; returns the masking
    statements that ran."""
    adapter = PostgresAdapter(admin_dsn)
    try:
        with adapter.transaction():
            adapter.execute(
                "CREATE TABLE hubspot_data.contacts (id text, email text, first_name text, "
                "last_name text, phone text, company_id text, lifecycle_stage text, "
                "updated_at timestamptz)"
            )
            adapter.execute(
                "INSERT INTO hubspot_data.contacts VALUES ('p1', 'bo@example.com', 'Bo', 'Ek', "
                "'+1 415 555 0100', 'co1', 'lead', now())"
            )
            masking = adapter.masking_sql("HUBSPOT_DATA", "CONTACTS")
            for statement in masking:
                adapter.execute(statement)
    finally:
        adapter.close()
    return masking
