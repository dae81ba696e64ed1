"""Demo data as each earlier version of the portal made it, one file per schema revision, for the
upgrade test (tests/integration/test_migrations_upgrade.py). make_fixtures.py says how they are made."""
