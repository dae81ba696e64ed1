"""Start-up: settings and flags, the storage secret, one clear line for a bad setting, demo data."""

from __future__ import annotations

import gc
import stat

import pytest
from sqlalchemy import func, select, text

from app import COLLECTOR_THRESHOLDS, parse_flags, settle_collector
from models import Invoice, Organization
from services.database import Database
from services.demo import seed_demo
from services.portal import prepare_data_dir, start, storage_secret
from services.settings import Settings, SettingsError, load_settings
from tests.portal_process import run_app


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PORTAL_PORT", "eighty"),
        ("PORTAL_PORT", "70000"),
        ("DATABASE_URL", "mysql://db/portal"),
        ("PORTAL_SMTP_SECURITY", "tls1.0"),
        ("PORTAL_BASE_URL", "billing.example.com"),
        ("PORTAL_SECRET_KEY", "too-short"),
        ("PORTAL_TRUSTED_PROXIES", "10.0.0.1, proxy.internal"),
    ],
)
def test_a_bad_setting_stops_start_up_with_one_line_naming_it(tmp_path, variable, value):
    result = run_app("--data-dir", str(tmp_path), **{variable: value})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"Invalid setting {variable}:")
    assert not (tmp_path / "portal.db").exists()


def test_flags_override_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_PORT", "9000")
    monkeypatch.setenv("PORTAL_HOST", "192.0.2.10")
    flags = parse_flags(["--port", "9100", "--data-dir", str(tmp_path), "--demo"])
    settings = load_settings(host=flags.host, port=flags.port, data_dir=flags.data_dir, demo=flags.demo)
    assert (settings.port, settings.host, settings.data_dir, settings.demo) == (
        9100,
        "192.0.2.10",
        tmp_path,
        True,
    )
    assert settings.resolved_database_url == f"sqlite:///{tmp_path.resolve() / 'portal.db'}"


def test_without_demo_flag_the_environment_decides(monkeypatch):
    monkeypatch.setenv("PORTAL_DEMO", "true")
    assert load_settings(demo=parse_flags([]).demo).demo is True


def test_the_storage_secret_is_made_once_and_readable_only_by_its_owner(tmp_path):
    secret = storage_secret(tmp_path)
    assert len(secret) >= 48
    assert stat.S_IMODE((tmp_path / "storage_secret").stat().st_mode) == 0o600
    assert storage_secret(tmp_path) == secret


def test_the_data_folder_and_its_database_are_readable_only_by_their_owner(tmp_path):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    started = start(Settings(data_dir=data))
    with started.db.transaction() as session:  # a write, so the write-ahead log exists
        session.execute(text("UPDATE alembic_version SET version_num = version_num"))
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in [data, *data.iterdir()]}
    started.db.engine.dispose()
    assert modes["data"] == 0o700
    assert {name: mode for name, mode in modes.items() if name.startswith("portal.db")} == {
        "portal.db": 0o600,
        "portal.db-wal": 0o600,
        "portal.db-shm": 0o600,
    }
    assert all(mode == 0o600 for name, mode in modes.items() if name != "data")


def test_a_data_folder_that_cannot_be_made_is_named(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(SettingsError, match=r"^Invalid setting PORTAL_DATA_DIR: cannot create"):
        prepare_data_dir(load_settings(data_dir=blocker / "data"))


def test_demo_data_goes_only_into_an_empty_database(tmp_path):
    db = Database.from_url(f"sqlite:///{tmp_path / 'portal.db'}")
    db.migrate()
    assert seed_demo(db, password_rounds=4) is not None
    with db.reading() as session:
        invoices = session.scalar(select(func.count()).select_from(Invoice))
    assert seed_demo(db, password_rounds=4) is None
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Invoice)) == invoices
        assert session.scalar(select(func.count()).select_from(Organization)) == 1


def test_two_demo_seeds_at_once_on_one_sqlite_file_fill_it_once(tmp_path):
    """Two processes started with --demo on one data folder (each its own engine): one fills it."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    url = f"sqlite:///{tmp_path / 'portal.db'}"
    Database.from_url(url).migrate()
    together = threading.Barrier(2)

    def seed() -> bool:
        db = Database.from_url(url)
        together.wait()
        try:
            return seed_demo(db, password_rounds=10) is not None  # slow enough hashes to meet
        finally:
            db.engine.dispose()

    with ThreadPoolExecutor(2) as pool:
        filled = list(pool.map(lambda _: seed(), range(2)))

    assert sorted(filled) == [False, True]
    with Database.from_url(url).reading() as session:
        assert session.scalar(select(func.count()).select_from(Organization)) == 1


def test_secrets_saved_under_another_key_stop_start_up_with_one_line(tmp_path):
    from services.payment_settings import GatewayChange, save_gateway
    from services.secret_key import KEY_FILE, install
    from services.settings import Settings
    from tests.factories import make_organization

    install(tmp_path)  # the key app.py will find in the data folder
    db = Database.from_url(f"sqlite:///{tmp_path / 'portal.db'}")
    db.migrate()
    keys = GatewayChange("stripe", "sk_test_abcdefgh1234", "pk_test_abcdefgh5678", "whsec_abcdefgh9999")
    save_gateway(db, make_organization(db), keys, Settings())
    db.engine.dispose()
    (tmp_path / KEY_FILE).unlink()  # lost: start-up makes a new one, which cannot open the saved keys

    result = run_app("--data-dir", str(tmp_path))

    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "The Stripe keys or SMTP password saved in Settings cannot be read with this secret key" in line


def test_once_started_the_collector_leaves_start_up_s_objects_alone_and_runs_less_often():
    before = gc.get_threshold()
    try:
        settle_collector()
        assert gc.get_freeze_count() > 10_000  # the modules, routes and catalogues made at start-up
        assert gc.get_threshold() == COLLECTOR_THRESHOLDS
        assert COLLECTOR_THRESHOLDS[0] > before[0]
    finally:
        gc.set_threshold(*before)
