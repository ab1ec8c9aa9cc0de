"""A number that changes with every write to the catalogue, so a process can keep items it has read.

``catalogue_generation`` holds one row. Triggers on the items, their materials and the organisations
(an item shows its authority) give it a new value on every insert, update, delete or truncate,
whoever writes: the services, the admin, a loader, a bulk ``update()`` or plain SQL. A new value is
one never used before (a sequence on PostgreSQL, a random 63-bit number on SQLite), so a value seen
inside a transaction that was rolled back never comes back. See ``tongban/catalogue/current.py``.
"""

from django.db import migrations

TABLES = ("catalogue_serviceitem", "catalogue_material", "regions_organisation")

POSTGRES = [
    "CREATE SEQUENCE catalogue_generation_seq",
    "CREATE TABLE catalogue_generation (id integer PRIMARY KEY, value bigint NOT NULL)",
    "INSERT INTO catalogue_generation (id, value) VALUES (1, nextval('catalogue_generation_seq'))",
    """CREATE FUNCTION catalogue_generation_bump() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE catalogue_generation SET value = nextval('catalogue_generation_seq') WHERE id = 1;
        RETURN NULL;
    END $$""",
    *(
        f"CREATE TRIGGER {table}_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION catalogue_generation_bump()"
        for table in TABLES
    ),
]
POSTGRES_REVERSE = [
    *(f"DROP TRIGGER IF EXISTS {table}_generation ON {table}" for table in TABLES),
    "DROP FUNCTION IF EXISTS catalogue_generation_bump()",
    "DROP TABLE IF EXISTS catalogue_generation",
    "DROP SEQUENCE IF EXISTS catalogue_generation_seq",
]
SQLITE = [
    "CREATE TABLE catalogue_generation (id integer PRIMARY KEY, value bigint NOT NULL)",
    "INSERT INTO catalogue_generation (id, value) VALUES (1, abs(random()))",
    *(
        f"CREATE TRIGGER {table}_generation_{event.lower()} AFTER {event} ON {table} "
        "BEGIN UPDATE catalogue_generation SET value = abs(random()) WHERE id = 1; END"
        for table in TABLES
        for event in ("INSERT", "UPDATE", "DELETE")
    ),
]
SQLITE_REVERSE = [
    *(
        f"DROP TRIGGER IF EXISTS {table}_generation_{event.lower()}"
        for table in TABLES
        for event in ("INSERT", "UPDATE", "DELETE")
    ),
    "DROP TABLE IF EXISTS catalogue_generation",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            raise RuntimeError(f"no catalogue generation triggers for {schema_editor.connection.vendor}")
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0004_serviceitem_issues_certificate"),
        ("regions", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRES_REVERSE, "sqlite": SQLITE_REVERSE}),
        )
    ]
