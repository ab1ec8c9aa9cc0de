"""The stack's floor under a submission: the same requests, answered with the least work that still
reads them as the product must, on the same server and settings.

Two endpoints, served beside the product's own URLs by a server started with
``DJANGO_SETTINGS_MODULE=bench.floor.settings``:

- ``POST /bench-floor/read``: the bearer token checked by the product's ``TokenAuth``, the JSON body
  parsed, every material decoded from Base64 and hashed; nothing written;
- ``POST /bench-floor/commit``: the same, then the body kept as one row in a transaction of its own.

What a submission costs above ``commit`` is what the product itself does with an application (the
form's schema, the files' content, the case, its materials, event, notification, audit entry and
transfer). Only for the benchmark: these endpoints never exist in a node.
"""

TABLE = "bench_floor_row"
CREATE_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} "
    "(id bigserial PRIMARY KEY, user_id bigint NOT NULL, body jsonb NOT NULL, "
    "created_at timestamptz NOT NULL DEFAULT now())"
)
DROP_TABLE = f"DROP TABLE IF EXISTS {TABLE}"
