"""The repository layer over SQLAlchemy 2 (async): schema, migrations, one module per aggregate."""
