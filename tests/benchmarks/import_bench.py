"""Benchmark of `flask billing import` on the 100,000-account demo: speed and memory.

    make bench-import
    .venv/bin/python tests/benchmarks/import_bench.py --db sqlite --accounts 10000 --months 3 \\
        --rows 100000,200000

The issue's target: a charges file of 1,000,000 rows imports into the demo of 100,000 accounts ×
24 months in at most 60 s, one of 2,000,000 rows in at most 120 s, on SQLite and on PostgreSQL,
with a peak RSS of at most 300 MB. For each database the benchmark

1. makes sure the demo database exists and is the one asked for (its accounts and its first and
   last month of charges), else builds it: `flask db upgrade` and `flask demo seed --accounts N
   --months M --seed S --end-month YYYY-MM` (10–15 minutes at full size), or a copy of a ready
   demo database of the same shape (--copy-sqlite-from, --pg-template); charges after its last
   month, if any (left by hand or by an earlier version of this benchmark), are deleted;
2. writes deterministic charges files (cached in instance/bench/) for the months after the demo's
   last one, for the account and service pairs of that month: every row is new, an insert;
3. imports each file with `flask billing import` in a fresh process, into a fresh copy of the
   demo database (so that every file meets the same database, down to its pages and indexes;
   the copy is dropped afterwards; no import writes to the demo itself), the first file twice
   (the second time nothing changes: the compare path), measuring the wall time and the peak
   resident set of that process; before that it loads the same file into a plain temporary
   table with the database's own client (psql `\\copy`, sqlite3 `.import`): the floor no importer
   can beat, measured side by side;

and prints one table with the ratios to the targets and to the floor. The exit code is 1 when a
target is missed, 2 when the benchmark itself cannot run. Machines are noisy: compare the ratios
measured side by side in one run, not seconds between runs. This is not a test (pytest collects
only test_*.py) and CI does not run it.
"""

import argparse
import hashlib
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, delete, func, inspect, select, text
from sqlalchemy.engine import Engine, make_url

from lkabonent.models import Account, BillingImport, Charge, Service

ROOT = Path(__file__).resolve().parents[2]
FLASK = ROOT / ".venv" / "bin" / "flask"
PYTHON = ROOT / ".venv" / "bin" / "python"
INSTANCE = ROOT / "instance"

DEFAULT_ACCOUNTS = 100_000
DEFAULT_MONTHS = 24
DEFAULT_SEED = 2026
DEFAULT_END_MONTH = "2026-11"
DEFAULT_ROWS = (1_000_000, 2_000_000)
DEFAULT_PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/"

SECONDS_PER_MILLION_ROWS = 60.0  # the issue: 60 s for 1,000,000 rows, 120 s for 2,000,000
PEAK_RSS_MB = 300.0
FILE_PREFIX = "bench-charges-"
HEADER = (
    "account;month;service;volume;tariff;accrued;recalculation;recalculation_reason;benefit;"
    "paid;opening_balance;closing_balance"
)
SUMMARY = re.compile(r"добавлено (\d+), обновлено (\d+), без изменений (\d+), отклонено (\d+)")
# As `make run`: debug mode needs no mail server, public address or payee, and changes nothing
# in the import.
FLASK_COMMAND = (str(FLASK), "--debug")
# `flask --debug billing import` that writes its peak resident set at exit to BENCH_PEAK_FILE:
# VmHWM counts this process's own memory only. (ru_maxrss, from wait4 or getrusage, would keep
# the RSS of the benchmark process it was forked from, which holds the generator's data.)
PEAK_WRAPPER = """
import atexit, os
def peak():
    with open("/proc/self/status") as status, open(os.environ["BENCH_PEAK_FILE"], "w") as out:
        out.write(next(line for line in status if line.startswith("VmHWM:")))
atexit.register(peak)
from flask.cli import main
main()
"""
IMPORT_COMMAND = (str(PYTHON), "-c", PEAK_WRAPPER, "--debug", "billing", "import")


class Unavailable(Exception):
    """The benchmark cannot run: a database, a tool or a command is missing or failed."""


# --- what is measured where -----------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """The demo database the benchmark runs on."""

    accounts: int
    months: int
    seed: int
    end_month: date

    @property
    def first_month(self) -> date:
        return add_months(self.end_month, 1 - self.months)

    @property
    def is_default(self) -> bool:
        return (self.accounts, self.months) == (DEFAULT_ACCOUNTS, DEFAULT_MONTHS)

    @property
    def label(self) -> str:
        """100k for the issue's demo, else accounts × months: 10000x3."""
        return "100k" if self.is_default else f"{self.accounts}x{self.months}"

    def describe(self) -> str:
        return (
            f"{self.accounts:,} accounts, charges {month_text(self.first_month)}…"
            f"{month_text(self.end_month)} ({self.months} months), seed {self.seed}"
        )


@dataclass
class Database:
    """One database under test: SQLite (a file) or PostgreSQL (a database of a server)."""

    name: str  # "sqlite" or "postgresql"
    url: str
    path: Path | None = None  # SQLite only

    @property
    def title(self) -> str:
        return "SQLite" if self.name == "sqlite" else "PostgreSQL"

    @property
    def database(self) -> str:
        return make_url(self.url).database

    def engine(self, **options) -> Engine:
        return create_engine(self.url, **options)

    def working_copy(self) -> "Database":
        """Where each file is imported: a copy of the demo, dropped afterwards, so that every
        file meets the same database, down to its pages and indexes."""
        if self.name == "sqlite":
            path = self.path.with_name(f"{self.path.stem}.run{self.path.suffix}")
            return Database(self.name, f"sqlite:///{path}", path)
        url = make_url(self.url).set(database=f"{self.database}_run")
        return Database(self.name, url.render_as_string(hide_password=False))


@dataclass
class Found:
    """What a demo database holds, as far as the benchmark cares."""

    accounts: int
    first_month: date | None
    has_end_month: bool

    def matches(self, spec: Spec) -> bool:
        return (
            self.accounts == spec.accounts
            and self.first_month == spec.first_month
            and self.has_end_month
        )

    def describe(self) -> str:
        first = month_text(self.first_month) if self.first_month else "none"
        return f"{self.accounts:,} accounts, charges from {first}"


@dataclass
class Measurement:
    """One line of the table."""

    database: str
    rows: int
    run: str  # "first" or "repeat"
    seconds: float
    peak_rss_mb: float
    floor_seconds: float | None
    problem: str = ""  # why the run itself failed, if it did

    @property
    def target_seconds(self) -> float:
        return SECONDS_PER_MILLION_ROWS * self.rows / 1_000_000

    @property
    def ok(self) -> bool:
        return (
            not self.problem
            and self.seconds <= self.target_seconds
            and self.peak_rss_mb <= PEAK_RSS_MB
        )


# --- months and numbers ---------------------------------------------------------------------


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def month_text(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def parse_month(value: str) -> date:
    found = re.fullmatch(r"(\d{4})-(\d{2})", value)
    if not found or not 1 <= int(found[2]) <= 12:
        raise argparse.ArgumentTypeError(f"{value!r}: expected YYYY-MM")
    return date(int(found[1]), int(found[2]), 1)


def parse_sizes(value: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part.replace("_", "")) for part in value.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r}: expected numbers, e.g. 1000000,2000000"
        ) from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"{value!r}: expected positive numbers")
    return sizes


def decimal_text(value: int, places: int, group: bool = True, trim: bool = False) -> str:
    """A scaled integer as the accounting system writes it: «-1 251,60» (a decimal comma, a
    space between thousands unless not ``group``); ``trim`` drops zeros at the end: «2,95»."""
    sign = "-" if value < 0 else ""
    whole, fraction = divmod(abs(value), 10**places)
    digits = f"{whole:,}".replace(",", " ") if group else str(whole)
    decimals = f"{fraction:0{places}d}"
    if trim:
        decimals = decimals.rstrip("0")
    return f"{sign}{digits},{decimals}" if decimals else sign + digits


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- the demo database ----------------------------------------------------------------------


def inspect_database(engine: Engine, spec: Spec) -> Found | None:
    """The accounts and charges of a migrated database, or None if it has no such tables."""
    with engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        if not {"accounts", "charges", "services"} <= tables:
            return None
        charges = Charge.__table__
        return Found(
            accounts=connection.scalar(select(func.count()).select_from(Account.__table__)),
            first_month=connection.scalar(select(func.min(charges.c.month))),
            has_end_month=connection.scalar(
                select(select(charges.c.id).where(charges.c.month == spec.end_month).exists())
            ),
        )


def ensure_demo(database: Database, spec: Spec, options: argparse.Namespace) -> None:
    """Reuse the demo database if it is the one ``spec`` describes, else build it."""
    log(f"{database.title}: checking {database.url} for {spec.describe()}")
    found = existing_demo(database, spec)
    if found and found.matches(spec):
        log(f"{database.title}: reusing it ({found.describe()})")
    else:
        if found:
            log(f"{database.title}: it holds {found.describe()}: rebuilding it")
        build_demo(database, spec, options)
        found = existing_demo(database, spec)
        if not (found and found.matches(spec)):
            got = found.describe() if found else "no demo tables"
            raise Unavailable(f"{database.title}: built, but it holds {got}, not {spec.describe()}")
    run_flask(database, "db", "upgrade", quiet=True)  # a reused database gets new migrations too
    remove_added(database, spec)


def existing_demo(database: Database, spec: Spec) -> Found | None:
    if database.name == "sqlite":
        if not database.path.exists():
            return None
    elif not postgres_exists(database.url):
        return None
    engine = database.engine()
    try:
        return inspect_database(engine, spec)
    finally:
        engine.dispose()


def build_demo(database: Database, spec: Spec, options: argparse.Namespace) -> None:
    """Drop the benchmark's database and build it again: a copy of a ready demo database of the
    same shape if one was named and matches, else migrations and the demo seed."""
    guard_rebuild(database)
    if database.name == "sqlite":
        source = options.copy_sqlite_from
        source = source if source and sqlite_source_matches(source, spec) else None
    else:
        source = options.pg_template
        source = source if source and postgres_template_matches(database, source, spec) else None
    if source is None:
        check_seed_command()  # before anything is dropped
    if database.name == "sqlite":
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{database.path}{suffix}").unlink(missing_ok=True)
        database.path.parent.mkdir(parents=True, exist_ok=True)
    else:
        drop_postgres(database.url)
    if source is not None:
        log(f"{database.title}: copying {source} (a ready demo of the same shape)")
        if database.name == "sqlite":
            copy_sqlite(Path(source), database.path)
        else:
            copy_postgres(database, source)
        return
    if database.name == "postgresql":
        create_postgres(database.url)
    log(
        f"{database.title}: building the demo: flask db upgrade, flask demo seed "
        f"({spec.describe()}); at 100,000 accounts this takes 10–15 minutes"
    )
    started = time.monotonic()
    run_flask(database, "db", "upgrade", quiet=True)
    run_flask(
        database,
        "demo",
        "seed",
        "--accounts",
        str(spec.accounts),
        "--months",
        str(spec.months),
        "--seed",
        str(spec.seed),
        "--end-month",
        month_text(spec.end_month),
    )
    log(f"{database.title}: demo built in {time.monotonic() - started:.0f} s")


def guard_rebuild(database: Database) -> None:
    """Only a database named as the benchmark's own is ever dropped."""
    name = database.path.name if database.name == "sqlite" else database.database
    if "bench" not in name:
        raise Unavailable(
            f"{database.title}: {name} is not the benchmark's database (its name has no "
            "'bench'); refusing to rebuild it"
        )


def check_seed_command() -> None:
    """The seed command must take the demo's size; say so plainly when it does not yet."""
    result = subprocess.run(  # noqa: S603 - our own venv's flask
        [*FLASK_COMMAND, "demo", "seed", "--help"],
        env=flask_env(None),
        capture_output=True,
        text=True,
        check=False,
    )
    if "--accounts" not in result.stdout:
        raise Unavailable(
            "`flask demo seed` does not take --accounts/--months/--seed/--end-month here: build "
            "the demo database another way (--copy-sqlite-from, --pg-template) or update the code"
        )


def sqlite_source_matches(source: str, spec: Spec) -> bool:
    if not Path(source).exists():
        log(f"SQLite: {source} does not exist; seeding instead")
        return False
    return ready_demo_matches("SQLite", source, f"sqlite:///file:{source}?mode=ro&uri=true", spec)


def ready_demo_matches(label: str, name: str, url, spec: Spec) -> bool:
    """Whether the ready demo database at ``url`` has the shape asked for; says why not."""
    engine = create_engine(url)
    try:
        found = inspect_database(engine, spec)
    finally:
        engine.dispose()
    if found and found.matches(spec):
        return True
    log(f"{label}: {name} holds {found.describe() if found else 'no demo'}; seeding instead")
    return False


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's backup API, into a temporary name first."""
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    with (
        sqlite3.connect(f"file:{source}?mode=ro", uri=True) as origin,
        sqlite3.connect(partial) as copy,
    ):
        origin.backup(copy)
    origin.close()
    copy.close()
    partial.rename(target)


def postgres_template_matches(database: Database, template: str, spec: Spec) -> bool:
    url = make_url(database.url).set(database=template)
    if not postgres_exists(url.render_as_string(hide_password=False)):
        log(f"PostgreSQL: database {template} does not exist; seeding instead")
        return False
    return ready_demo_matches("PostgreSQL", template, url, spec)


def copy_postgres(database: Database, template: str) -> None:
    """A copy of ``template``: CREATE DATABASE … TEMPLATE, which needs the template without
    sessions, else pg_dump | psql, which does not."""
    try:
        clone_postgres(database.url, template)
        return
    except Exception as error:  # any failure: the slower way
        log(f"PostgreSQL: TEMPLATE refused ({str(error).splitlines()[0]}); pg_dump | psql instead")
    create_postgres(database.url)
    source_args = psql_args(make_url(database.url).set(database=template))
    target_args = psql_args(make_url(database.url))
    dump = subprocess.Popen(  # noqa: S603
        [tool("pg_dump"), "--no-owner", *source_args],
        stdout=subprocess.PIPE,
        env=psql_env(database.url),
    )
    subprocess.run(  # noqa: S603
        [tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", *target_args],
        stdin=dump.stdout,
        stdout=subprocess.DEVNULL,
        env=psql_env(database.url),
        check=True,
    )
    dump.stdout.close()
    if dump.wait():
        raise Unavailable("PostgreSQL: pg_dump failed")


def clone_postgres(url: str, template: str) -> None:
    """CREATE DATABASE (the one ``url`` names) TEMPLATE ``template``; by copying files on
    PostgreSQL 15 and later rather than through the WAL, which is much faster for gigabytes."""
    engine = server_engine(url)
    try:
        with engine.connect() as connection:
            strategy = (
                " STRATEGY FILE_COPY" if connection.dialect.server_version_info >= (15,) else ""
            )
            connection.execute(
                text(f'CREATE DATABASE "{make_url(url).database}" TEMPLATE "{template}"{strategy}')
            )
    finally:
        engine.dispose()


def fresh_copy(database: Database) -> Database:
    """A working copy of the demo database, made anew."""
    copy = database.working_copy()
    guard_rebuild(copy)
    started = time.monotonic()
    drop_copy(copy)
    if database.name == "sqlite":
        copy_sqlite(database.path, copy.path)
    else:
        clone_postgres(copy.url, database.database)
    log(f"{database.title}: a fresh copy of the demo in {time.monotonic() - started:.0f} s")
    return copy


def drop_copy(copy: Database) -> None:
    if copy.name == "sqlite":
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{copy.path}{suffix}").unlink(missing_ok=True)
    else:
        drop_postgres(copy.url)


def server_engine(url: str) -> Engine:
    """The server's maintenance database, in autocommit (CREATE/DROP DATABASE)."""
    return create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def postgres_exists(url: str) -> bool:
    engine = server_engine(url)
    try:
        with engine.connect() as connection:
            return bool(
                connection.scalar(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"),
                    {"name": make_url(url).database},
                )
            )
    finally:
        engine.dispose()


def create_postgres(url: str) -> None:
    engine = server_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{make_url(url).database}"'))
    finally:
        engine.dispose()


def drop_postgres(url: str) -> None:
    engine = server_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}"'))
    finally:
        engine.dispose()


def remove_added(database: Database, spec: Spec) -> None:
    """Delete what the benchmark's imports added: the charges after the demo's last month and
    the import log rows of its files. VACUUM on PostgreSQL, so that a run does not start on the
    dead rows of the last one."""
    engine = database.engine()
    try:
        with engine.begin() as connection:
            removed = connection.execute(
                delete(Charge.__table__).where(Charge.__table__.c.month > spec.end_month)
            ).rowcount
            connection.execute(
                delete(BillingImport.__table__).where(
                    BillingImport.__table__.c.file_name.like(FILE_PREFIX + "%")
                )
            )
        if database.name == "postgresql" and removed:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM (ANALYZE) charges"))
    finally:
        engine.dispose()
    if removed:
        log(f"{database.title}: removed {removed:,} charges the imports added")


# --- the charges files ----------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """How a service's lines look: the volume's range (in 1/10000 units) and places, the tariff."""

    low: int
    high: int
    places: int
    tariff: int | None  # in 1/10000 rouble; None: no volume and tariff (пени)
    fixed: bool = False  # the same volume every month (people, m²)
    season: tuple[int, ...] = ()  # the months it is charged in; empty: all


VOLUME = 10_000  # VOLUME_PLACES = TARIFF_PLACES = 4
PROFILES = {
    "electricity": Profile(60 * VOLUME, 450 * VOLUME, 0, 53_100),
    "cold_water": Profile(1 * VOLUME, 12 * VOLUME, 3, 685_300),
    "hot_water": Profile(VOLUME // 2, 8 * VOLUME, 3, 2_456_000),
    "sewerage": Profile(2 * VOLUME, 18 * VOLUME, 3, 521_100),
    "heating": Profile(VOLUME // 3, 3 * VOLUME, 4, 28_905_400, season=(1, 2, 3, 4, 10, 11, 12)),
    "waste": Profile(1 * VOLUME, 5 * VOLUME, 0, 1_384_500, fixed=True),
    "capital_repair": Profile(25 * VOLUME, 120 * VOLUME, 2, 98_000, fixed=True),
    "penalty": Profile(0, 0, 0, None),
}
OTHER_SERVICE = Profile(1 * VOLUME, 100 * VOLUME, 2, 100_000)
REASONS = (
    "Перерасчет по показаниям прибора учета",
    "Временное отсутствие потребителя",
    "Услуга ненадлежащего качества",
    "Изменение числа зарегистрированных",
    "Перерасчет по акту проверки № 17; корректировка объема",  # a separator: quoted
    'Корректировка по заявлению "через портал"',  # quotes: doubled
)


@dataclass
class Pairs:
    """The account and service pairs of the demo's last month, with what the next month
    continues: the closing balance, the tariff and the volume."""

    numbers: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    closing: list[int] = field(default_factory=list)
    tariffs: list[int | None] = field(default_factory=list)
    volumes: list[int | None] = field(default_factory=list)
    fingerprint: str = ""


def read_pairs(database: Database, spec: Spec) -> Pairs:
    """The pairs, in a stable order, and a fingerprint of them that names the files."""
    charges, accounts, services = Charge.__table__, Account.__table__, Service.__table__
    query = (
        select(
            accounts.c.number,
            services.c.code,
            charges.c.closing_balance,
            charges.c.tariff,
            charges.c.volume,
        )
        .select_from(
            charges.join(accounts, accounts.c.id == charges.c.account_id).join(
                services, services.c.id == charges.c.service_id
            )
        )
        .where(charges.c.month == spec.end_month)
        .order_by(accounts.c.number, services.c.code)
    )
    pairs, digest = Pairs(), hashlib.sha256()
    codes: dict[str, str] = {}
    engine = database.engine()
    try:
        with engine.connect() as connection:
            for number, code, closing, tariff, volume in connection.execute(
                query.execution_options(yield_per=10_000)
            ):
                # The Fixed columns come back as Decimals of the stored integers' scale.
                closing = int(closing.scaleb(2))
                tariff = None if tariff is None else int(tariff.scaleb(4))
                volume = None if volume is None else int(volume.scaleb(4))
                pairs.numbers.append(number)
                pairs.codes.append(codes.setdefault(code, code))
                pairs.closing.append(closing)
                pairs.tariffs.append(tariff)
                pairs.volumes.append(volume)
                digest.update(f"{number};{code};{closing};{tariff};{volume}\n".encode())
    finally:
        engine.dispose()
    if not pairs.numbers:
        raise Unavailable(f"{database.title}: no charges in {month_text(spec.end_month)}")
    pairs.fingerprint = digest.hexdigest()[:10]
    return pairs


def charges_file(directory: Path, pairs: Pairs, spec: Spec, rows: int) -> Path:
    """The cached file of ``rows`` charges after the demo's last month; written if missing."""
    start = add_months(spec.end_month, 1)
    path = directory / f"{FILE_PREFIX}{rows}-from-{month_text(start)}-{pairs.fingerprint}.csv"
    if path.exists():
        log(f"using the cached {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
        return path
    directory.mkdir(parents=True, exist_ok=True)
    log(f"writing {path.name} ({rows:,} rows)")
    partial = path.with_name(path.name + ".partial")
    with open(partial, "w", encoding="utf-8", newline="") as out:
        out.write(HEADER + "\r\n")
        out.writelines(charge_lines(pairs, spec, rows))
    partial.rename(path)
    return path


def charge_lines(pairs: Pairs, spec: Spec, rows: int) -> Iterator[str]:
    """Month after month, a line per pair: the volume and tariff of its service, what was
    paid of the opening balance (the last closing one), now and then a recalculation (with a
    reason), a benefit for some accounts, the closing balance that follows."""
    rng = random.Random(spec.seed)  # noqa: S311 - deterministic on purpose
    closing = list(pairs.closing)
    month = spec.end_month
    written = 0
    while True:
        month = add_months(month, 1)
        month_cell = f"{month.month:02d}.{month.year}"
        for index, (number, code) in enumerate(zip(pairs.numbers, pairs.codes, strict=True)):
            if written == rows:
                return
            profile = PROFILES.get(code, OTHER_SERVICE)
            opening = closing[index]
            if profile.tariff is None:  # пени: a sum, no volume
                volume = tariff = None
                accrued = rng.randint(50, 30_000) if opening > 0 and rng.random() < 0.35 else 0
            else:
                tariff = pairs.tariffs[index] or profile.tariff
                if profile.season and month.month not in profile.season:
                    volume = 0
                elif profile.fixed and pairs.volumes[index]:
                    volume = pairs.volumes[index]
                else:
                    step = 10 ** (4 - profile.places)
                    volume = rng.randint(profile.low // step, profile.high // step) * step
                accrued = (volume * tariff + 500_000) // 1_000_000  # kopecks, half up
            recalculation, reason = 0, ""
            if accrued and rng.random() < 0.04:
                recalculation = rng.randint(1, max(1, accrued // 3)) * rng.choice((-1, 1))
                reason = rng.choice(REASONS)
            benefit = accrued // 2 if int(number[-4:], 36) % 11 == 0 else 0
            chance = rng.random()
            if opening <= 0 or chance > 0.9:
                paid = 0
            elif chance > 0.75:
                paid = opening * rng.randint(30, 90) // 100
            else:
                paid = opening
            closing[index] = opening + accrued + recalculation - benefit - paid
            cells = (
                number,
                month_cell,
                code,
                "" if volume is None else decimal_text(volume, 4, group=False, trim=True),
                "" if tariff is None else decimal_text(tariff, 4, group=False),
                decimal_text(accrued, 2),
                money_or_empty(recalculation, rng),
                f'"{reason.replace(chr(34), chr(34) * 2)}"' if reason else "",
                money_or_empty(benefit, rng),
                decimal_text(paid, 2),
                decimal_text(opening, 2),
                decimal_text(closing[index], 2),
            )
            written += 1
            yield ";".join(cells) + "\r\n"


def money_or_empty(value: int, rng: random.Random) -> str:
    """An optional money cell: a zero is written as «0,00» or left empty, as systems do."""
    if value:
        return decimal_text(value, 2)
    return "0,00" if rng.random() < 0.5 else ""


# --- measuring ------------------------------------------------------------------------------


def flask_env(database: Database | None) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("LKABONENT_")}
    env["FLASK_APP"] = "lkabonent"
    if database:
        env["LKABONENT_DATABASE_URL"] = database.url
    return env


def run_flask(database: Database, *args: str, quiet: bool = False) -> None:
    result = subprocess.run(  # noqa: S603 - our own venv's flask
        [*FLASK_COMMAND, *args],
        cwd=ROOT,
        env=flask_env(database),
        capture_output=quiet,
        text=True,
        check=False,
    )
    if result.returncode:
        if quiet:
            sys.stderr.write(result.stdout + result.stderr)
        raise Unavailable(f"{database.title}: flask {' '.join(args)} failed")


def run_import(database: Database, path: Path) -> tuple[float, float, str, str]:
    """`flask billing import PATH` in a fresh process: its wall time, its peak resident set in
    MB, its output, and a problem if it failed."""
    with tempfile.TemporaryDirectory(prefix="bench-import-") as scratch:
        peak_file = Path(scratch) / "peak"
        started = time.monotonic()
        result = subprocess.run(  # noqa: S603 - our own venv's python
            [*IMPORT_COMMAND, str(path)],
            cwd=ROOT,
            env=flask_env(database) | {"BENCH_PEAK_FILE": str(peak_file)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )
        seconds = time.monotonic() - started
        peak = peak_file.read_text() if peak_file.exists() else ""
    problem = f"exit code {result.returncode}" if result.returncode else ""
    found = re.search(r"(\d+) kB", peak)
    if not found:
        problem = problem or "no peak memory reported"
    return seconds, int(found[1]) / 1024 if found else 0.0, result.stdout, problem


def check_counts(output: str, rows: int, run: str) -> str:
    """The summary line must tell: all inserted the first time, all unchanged the second."""
    found = SUMMARY.search(output)
    if not found:
        return "no summary line"
    inserted, updated, unchanged, rejected = map(int, found.groups())
    expected = (rows, 0, 0, 0) if run == "first" else (0, 0, rows, 0)
    if (inserted, updated, unchanged, rejected) != expected:
        return (
            f"inserted {inserted}, updated {updated}, unchanged {unchanged}, rejected "
            f"{rejected}; expected {expected}"
        )
    return ""


def floor_seconds(database: Database, path: Path) -> float:
    """Load the file's raw text cells into a temporary table with the database's own client,
    without parsing, checks or merging: the floor for reading the file into the database."""
    columns = ", ".join(f"{name} text" for name in HEADER.split(";"))
    create = f"CREATE TEMP TABLE bench_floor ({columns})"
    started = time.monotonic()
    if database.name == "sqlite":
        script = (
            f".bail on\n.mode csv\n.separator ;\n{create};\n"
            f".import --skip 1 --schema temp '{path}' bench_floor\n"
        )
        subprocess.run(  # noqa: S603
            [tool("sqlite3"), "-batch", str(database.path)],
            input=script,
            text=True,
            check=True,
        )
    else:
        copy = f"\\copy bench_floor FROM '{path}' WITH (FORMAT csv, DELIMITER ';', HEADER true)"
        subprocess.run(  # noqa: S603
            [
                tool("psql"),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                *psql_args(make_url(database.url)),
                "-c",
                create,
                "-c",
                copy,
            ],
            env=psql_env(database.url),
            stdout=subprocess.DEVNULL,
            check=True,
        )
    return time.monotonic() - started


def tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise Unavailable(
            f"{name} is not installed: it measures the floor (apt-get install {name})"
        )
    return found


def psql_args(url) -> list[str]:
    args = ["-d", url.database]
    if url.host:
        args += ["-h", url.host]
    if url.port:
        args += ["-p", str(url.port)]
    if url.username:
        args += ["-U", url.username]
    return args


def psql_env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    password = make_url(url).password
    if password:
        env["PGPASSWORD"] = password
    return env


def measure(
    database: Database, spec: Spec, sizes: tuple[int, ...], files: Path
) -> list[Measurement]:
    """Each file into a fresh copy of ``database``: the floor, the import, and for the first
    file the same import again."""
    pairs = read_pairs(database, spec)
    paths = {rows: charges_file(files, pairs, spec, rows) for rows in sizes}
    del pairs
    measurements = []
    for number, rows in enumerate(sizes):
        path = paths[rows]
        copy = fresh_copy(database)
        try:
            floor = floor_seconds(copy, path)
            log(f"{database.title}: floor for {rows:,} rows: {floor:.1f} s")
            for run in ("first", "repeat") if number == 0 else ("first",):
                log(f"{database.title}: importing {rows:,} rows ({run} run)")
                seconds, rss, output, problem = run_import(copy, path)
                problem = problem or check_counts(output, rows, run)
                if problem:
                    sys.stderr.write(output[-3000:])
                log(f"{database.title}: {seconds:.1f} s, peak RSS {rss:.0f} MB {problem}")
                measurements.append(
                    Measurement(database.title, rows, run, seconds, rss, floor, problem)
                )
        finally:
            drop_copy(copy)
    return measurements


# --- the table ------------------------------------------------------------------------------


def print_table(measurements: list[Measurement]) -> None:
    header = (
        "database",
        "rows",
        "run",
        "seconds",
        "rows/s",
        "peak RSS MB",
        "target s",
        "×target s",
        "×RSS 300",
        "floor s",
        "×floor",
        "result",
    )
    lines = [header]
    for m in measurements:
        lines.append(
            (
                m.database,
                f"{m.rows:,}",
                m.run,
                f"{m.seconds:.1f}",
                f"{m.rows / m.seconds:,.0f}",
                f"{m.peak_rss_mb:.0f}",
                f"{m.target_seconds:.0f}",
                f"{m.seconds / m.target_seconds:.2f}",
                f"{m.peak_rss_mb / PEAK_RSS_MB:.2f}",
                f"{m.floor_seconds:.1f}" if m.floor_seconds else "-",
                f"{m.seconds / m.floor_seconds:.1f}" if m.floor_seconds else "-",
                "OK" if m.ok else ("FAILED: " + m.problem if m.problem else "OVER"),
            )
        )
    widths = [max(len(line[column]) for line in lines) for column in range(len(header))]
    print()
    for index, line in enumerate(lines):
        cells = [
            cell.ljust(width) if column in (0, 2, 11) else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(line, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
        if index == 0:
            print("  ".join("-" * width for width in widths))
    print(
        f"\ntargets: {SECONDS_PER_MILLION_ROWS:.0f} s per 1,000,000 rows, peak RSS "
        f"{PEAK_RSS_MB:.0f} MB; ×target above 1.00 is OVER. ×floor: import time / the time "
        "the database's own client takes to load the same file into a plain table."
    )


def describe_code() -> str:
    """The code measured: the commit, and a digest of the package's sources, which tells runs
    on a changing working tree apart."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "lkabonent").rglob("*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    git = shutil.which("git")
    commit = "unknown commit"
    if git:
        result = subprocess.run(  # noqa: S603
            [git, "-C", str(ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=False,
        )
        commit = result.stdout.strip() or commit
    return f"{commit}, lkabonent/**/*.py sha256 {digest.hexdigest()[:12]}"


def describe_machine(databases: list[Database]) -> None:
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}", end="")
    print(f", SQLite {sqlite3.sqlite_version}", end="")
    for database in databases:
        if database.name == "postgresql":
            engine = database.engine()
            try:
                with engine.connect() as connection:
                    version = connection.scalar(text("SHOW server_version"))
            finally:
                engine.dispose()
            print(f", PostgreSQL {version}", end="")
    print()


# --- main -----------------------------------------------------------------------------------


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--db",
        default="sqlite,postgresql",
        help="sqlite, postgresql or both, comma-separated (default: both)",
    )
    parser.add_argument(
        "--rows",
        type=parse_sizes,
        default=DEFAULT_ROWS,
        help="rows of the charges files, comma-separated; the first is imported twice "
        "(default: 1000000,2000000)",
    )
    parser.add_argument(
        "--accounts",
        type=int,
        default=DEFAULT_ACCOUNTS,
        help=f"accounts of the demo (default: {DEFAULT_ACCOUNTS})",
    )
    parser.add_argument(
        "--months",
        type=int,
        default=DEFAULT_MONTHS,
        help=f"months of charges in the demo (default: {DEFAULT_MONTHS})",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        help=f"the demo's seed, and the files' (default: {DEFAULT_SEED})",
    )
    parser.add_argument(
        "--end-month",
        type=parse_month,
        default=parse_month(DEFAULT_END_MONTH),
        help=f"the demo's last month of charges, YYYY-MM (default: {DEFAULT_END_MONTH})",
    )
    parser.add_argument(
        "--sqlite-path",
        type=Path,
        help="the SQLite demo (default: instance/bench-100k.sqlite, or bench-<N>x<M>.sqlite)",
    )
    parser.add_argument(
        "--pg-url",
        help="the PostgreSQL demo (default: "
        f"{DEFAULT_PG_SERVER}lkabonent_bench, or lkabonent_bench_<N>x<M>)",
    )
    parser.add_argument(
        "--copy-sqlite-from",
        metavar="PATH",
        help="when the SQLite demo must be built: copy this ready demo if it has the same shape",
    )
    parser.add_argument(
        "--pg-template",
        metavar="DATABASE",
        help="when the PostgreSQL demo must be built: copy this database of the same server if "
        "it has the same shape",
    )
    parser.add_argument(
        "--files",
        type=Path,
        default=INSTANCE / "bench",
        help="where the charges files are cached (default: instance/bench)",
    )
    options = parser.parse_args(argv)
    options.db = [name.strip() for name in options.db.split(",") if name.strip()]
    unknown = set(options.db) - {"sqlite", "postgresql"}
    if unknown or not options.db:
        parser.error(f"--db: sqlite and/or postgresql, not {', '.join(sorted(unknown))}")
    return options


def main(argv: list[str] | None = None) -> int:
    options = arguments(argv)
    spec = Spec(options.accounts, options.months, options.seed, options.end_month)
    databases = []
    if "sqlite" in options.db:
        path = (options.sqlite_path or INSTANCE / f"bench-{spec.label}.sqlite").resolve()
        databases.append(Database("sqlite", f"sqlite:///{path}", path))
    if "postgresql" in options.db:
        suffix = "" if spec.is_default else f"_{spec.label}"
        url = options.pg_url or f"{DEFAULT_PG_SERVER}lkabonent_bench{suffix}"
        databases.append(Database("postgresql", url))

    code = describe_code()
    for database in databases:
        ensure_demo(database, spec, options)
    measurements = []
    for database in databases:
        measurements += measure(database, spec, options.rows, options.files)

    print(f"\n`flask billing import` of charges files into the demo: {spec.describe()}")
    print(f"code: {code}")
    if describe_code() != code:
        print("WARNING: the code changed during the run; the runs measured different code")
    describe_machine(databases)
    print_table(measurements)
    return 0 if all(m.ok for m in measurements) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (Unavailable, subprocess.CalledProcessError) as error:
        print(f"import_bench: {error}", file=sys.stderr)
        sys.exit(2)
