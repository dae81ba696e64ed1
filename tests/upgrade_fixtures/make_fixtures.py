"""Make the upgrade test's fixtures: the demo data as each earlier version of the portal made it.

For each schema revision in migrations/versions, this checks out (``git worktree add --detach``) the
last commit whose newest migration was that revision: the parent of the commit that added the next
migration, or HEAD for the newest. There it runs that commit's own start-up and demo seeding
(``services.portal.start``, then ``services.demo.seed_demo`` with the clock at the commit's date) in a
temporary data folder, with the interpreter running this script, and writes every table's rows to
``<revision>.json`` beside this file. The worktree is removed afterwards.

    python tests/upgrade_fixtures/make_fixtures.py             # the revisions without a file yet
    python tests/upgrade_fixtures/make_fixtures.py 0005 0006   # these, made again

The upgrade test needs a file for every revision but the newest: after committing a new migration, run
this to add the one before it. So far every revision was the newest in some commit, so each file holds
what that revision's own code wrote. Should a commit ever add two migrations at once, the earlier one
has no such commit: make its file from the previous revision's data upgraded by the new migration, and
say so in its commit. 0020 is such a revision: committed empty (05113fa) before the quotes filled it, so
its file is that commit's data with the quotes' tables and columns added (49ffd1d); do not make it again
with this script.

Values keep their types through JSON (``{"datetime": ...}``, ``{"date": ...}``, ``{"decimal": ...}``,
``{"bytes": <base64>}``, ``{"json": ...}``), so one file loads into SQLite and PostgreSQL alike.
Passwords are hashed with 4 bcrypt rounds, so the test's sign-ins take milliseconds.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

FIXTURES_DIR = Path(__file__).resolve().parent
ROOT = FIXTURES_DIR.parent.parent
VERSIONS = "migrations/versions"
BCRYPT_ROUNDS = "4"


@dataclass(frozen=True)
class Fixture:
    """One revision's demo data: rows per table, as dicts of typed values."""

    revision: str
    commit: str
    seeded_at: datetime
    tables: Mapping[str, list[dict[str, Any]]]


def fixture_paths() -> list[Path]:
    return sorted(FIXTURES_DIR.glob("[0-9]*.json"))


def read_fixture(path: Path) -> Fixture:
    data = json.loads(path.read_text(encoding="utf-8"))
    tables = {
        name: [dict(zip(table["columns"], map(decode_value, row), strict=True)) for row in table["rows"]]
        for name, table in data["tables"].items()
    }
    return Fixture(data["revision"], data["commit"], datetime.fromisoformat(data["seeded_at"]), tables)


def encode_value(value: Any) -> Any:
    # bool before int: a bool is an int to isinstance
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    if isinstance(value, bytes):
        return {"bytes": base64.b64encode(value).decode()}
    if isinstance(value, dict | list):
        return {"json": value}
    raise TypeError(f"no fixture encoding for {type(value).__name__}: {value!r}")


def decode_value(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    [(tag, text)] = value.items()
    decoders: dict[str, Callable[[Any], Any]] = {
        "datetime": datetime.fromisoformat,
        "date": date.fromisoformat,
        "decimal": Decimal,
        "bytes": base64.b64decode,
        "json": lambda inner: inner,
    }
    return decoders[tag](text)


# --- making them -------------------------------------------------------------------------------------


def revision_commits() -> dict[str, str]:
    """Each revision and the last commit whose newest migration it was."""
    files = sorted(
        name
        for name in _git("ls-tree", "--name-only", "HEAD", f"{VERSIONS}/").splitlines()
        if name.endswith(".py")
    )
    revisions = [Path(name).name.split("_", 1)[0] for name in files]
    commits = {}
    for index, revision in enumerate(revisions):
        if index + 1 < len(files):
            added_next = _git("log", "--diff-filter=A", "--format=%H", "--", files[index + 1]).split()[-1]
            commits[revision] = _git("rev-parse", f"{added_next}^")
        else:
            commits[revision] = _git("rev-parse", "HEAD")
    return commits


def make_fixture(revision: str, commit: str) -> Path:
    seeded_at = _git("show", "-s", "--format=%cI", commit)
    target = FIXTURES_DIR / f"{revision}.json"
    with tempfile.TemporaryDirectory(prefix=f"fixture-{revision}-") as scratch:
        worktree = Path(scratch) / "code"
        _git("worktree", "add", "--detach", str(worktree), commit)
        try:
            keep = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "DATABASE_URL"))}
            subprocess.run(
                [sys.executable, __file__, "--seed-into", str(target), revision, commit, seeded_at],
                cwd=worktree,
                env={
                    **keep,
                    "PYTHONPATH": str(worktree),
                    "PORTAL_DATA_DIR": str(Path(scratch) / "data"),
                    "PORTAL_BCRYPT_ROUNDS": BCRYPT_ROUNDS,
                },
                check=True,
            )
        finally:
            _git("worktree", "remove", "--force", str(worktree))
    return target


def seed_and_dump(target: Path, revision: str, commit: str, seeded_at: str) -> None:
    """Runs in the old commit's worktree: its own start-up, demo and models, not today's."""
    from sqlalchemy import select, text

    import models
    from services import portal
    from services.demo import seed_demo
    from services.settings import load_settings

    settings = load_settings()
    started = portal.start(settings)
    moment = datetime.fromisoformat(seeded_at)
    seed_demo(started.db, clock=lambda: moment, password_rounds=settings.bcrypt_rounds)
    with started.db.reading() as session:
        found = session.scalar(text("SELECT version_num FROM alembic_version"))
        if found != revision:
            raise SystemExit(f"commit {commit} migrates to {found}, not {revision}")
        tables = {}
        for table in models.Base.metadata.sorted_tables:
            rows = session.execute(select(table).order_by(*table.primary_key.columns)).all()
            tables[table.name] = ([column.name for column in table.columns], rows)
    started.db.engine.dispose()
    target.write_text("".join(_fixture_json(revision, commit, seeded_at, tables)), encoding="utf-8")


def _fixture_json(
    revision: str, commit: str, seeded_at: str, tables: dict[str, tuple[list[str], Sequence[Any]]]
) -> Iterator[str]:
    """One row a line, so that a changed fixture reads well in a diff."""
    yield "{\n"
    for key, value in (("revision", revision), ("commit", commit), ("seeded_at", seeded_at)):
        yield f"  {json.dumps(key)}: {json.dumps(value)},\n"
    yield '  "tables": {\n'
    for number, (name, (columns, rows)) in enumerate(tables.items()):
        yield f'    {json.dumps(name)}: {{"columns": {json.dumps(columns)}, "rows": ['
        encoded = [json.dumps([encode_value(value) for value in row], ensure_ascii=False) for row in rows]
        yield "".join(f"\n      {line}," for line in encoded).rstrip(",") + ("\n    " if rows else "")
        yield "]}" + ("," if number + 1 < len(tables) else "") + "\n"
    yield "  }\n}\n"


def _git(*args: str) -> str:
    result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True)
    return result.stdout.strip()


def main(argv: list[str]) -> None:
    if argv[:1] == ["--seed-into"]:
        target, revision, commit, seeded_at = argv[1:]
        seed_and_dump(Path(target), revision, commit, seeded_at)
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "revisions", nargs="*", help="revisions to make again (default: those without a file)"
    )
    chosen = parser.parse_args(argv).revisions
    commits = revision_commits()
    unknown = set(chosen) - set(commits)
    if unknown:
        parser.error(f"no such revision: {', '.join(sorted(unknown))}")
    existing = {path.stem for path in fixture_paths()}
    for revision, commit in commits.items():
        if revision in chosen or (not chosen and revision not in existing):
            print(f"{revision}: demo data of {commit[:12]} ...", flush=True)
            print(f"  wrote {make_fixture(revision, commit).relative_to(ROOT)}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
