"""Password hashing, the password policy and the passwords we send by mail."""

import gzip
import secrets
from functools import cache
from importlib import resources

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

MIN_LENGTH = 8
MAX_LENGTH = 256
# Capital Latin letters and digits without look-alikes: no 0/O, 1/I, 2/Z, 5/S, 8/B, and one
# case only, since c/C, k/K, p/P… differ only in size. 26 symbols, 12 of them: 56 bits.
EMAILED_ALPHABET = "ACDEFGHJKLMNPQRTUVWXY34679"
EMAILED_GROUPS = 3
EMAILED_GROUP_LENGTH = 4


def hasher() -> PasswordHasher:
    """The argon2id hasher configured for the current application."""
    extension = current_app.extensions.get("lkabonent.hasher")
    if extension is None:
        config = current_app.config
        extension = PasswordHasher(
            time_cost=config["ARGON2_TIME_COST"],
            memory_cost=config["ARGON2_MEMORY_COST"],
            parallelism=config["ARGON2_PARALLELISM"],
            type=Type.ID,
        )
        current_app.extensions["lkabonent.hasher"] = extension
    return extension


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Tell whether the password matches the hash; a malformed hash never matches."""
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Tell whether the hash was made with other parameters than the configured ones."""
    return hasher().check_needs_rehash(password_hash)


def dummy_hash() -> str:
    """A hash to verify against when there is no user, so both answers cost the same."""
    extension = current_app.extensions.get("lkabonent.dummy_hash")
    if extension is None:
        extension = hash_password(secrets.token_urlsafe(16))
        current_app.extensions["lkabonent.dummy_hash"] = extension
    return extension


def generate_emailed_password() -> str:
    """A random password for a mail: 12 unambiguous characters in groups, like «AC3D-…»."""
    groups = (
        "".join(secrets.choice(EMAILED_ALPHABET) for _ in range(EMAILED_GROUP_LENGTH))
        for _ in range(EMAILED_GROUPS)
    )
    return "-".join(groups)


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of 20,000 common passwords (from Django, BSD licence), lower-cased."""
    data = resources.files("lkabonent").joinpath("data/common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode().split())


def password_problem(password: str, login: str = "") -> str | None:
    """Return why a new password is refused, in Russian, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"Пароль должен быть не короче {MIN_LENGTH} символов."
    if len(password) > MAX_LENGTH:
        return f"Пароль должен быть не длиннее {MAX_LENGTH} символов."
    if password != password.strip():
        # The login and «Текущий пароль» fields drop surrounding whitespace (a pasted password
        # often brings some), so a password with it could never be typed in again.
        return "Пароль не может начинаться или заканчиваться пробелом."
    if password.strip().lower() in common_passwords():
        return "Этот пароль слишком распространен, его легко подобрать. Придумайте другой."
    if login and password.strip().casefold() in {login.casefold(), login.split("@")[0].casefold()}:
        return "Пароль не должен совпадать с логином."
    return None
