"""Password hashing (argon2) and random tokens; tokens are stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when the password matches the stored hash (never raises on a mismatch)."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# A fixed hash verified when the user does not exist, so timing does not reveal valid usernames.
_DUMMY_HASH = _hasher.hash("onewindow-timing-equaliser")


def burn_verify_time(password: str) -> None:
    """Spend the same time as a real verification."""
    verify_password(_DUMMY_HASH, password)


def new_token(prefix: str = "") -> str:
    """A URL-safe random token with 256 bits of entropy."""
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time string comparison."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


# Passwords that a guesser tries first; the policy refuses them whatever their length or classes.
COMMON_PASSWORDS = frozenset({
    "password", "password1", "password123", "passw0rd", "p@ssw0rd", "p@ssword", "qwerty123", "qwertyuiop",
    "12345678", "123456789", "1234567890", "87654321", "11111111", "88888888", "66666666", "00000000",
    "abc12345", "abcd1234", "a1234567", "aa123456", "1qaz2wsx", "1qaz@wsx", "zaq12wsx", "qweasdzxc",
    "admin123", "admin@123", "admin1234", "administrator", "root1234", "welcome1", "iloveyou", "woaini1314",
    "letmein1", "changeme", "test1234", "test@123", "abc@1234", "abc123456", "qwe123456", "asd123456",
})


def password_problems(password: str, *, username: str = "") -> list[str]:
    """The reasons (in Chinese) a password breaks the policy, none when it is acceptable.

    At least :data:`MIN_PASSWORD_LENGTH` characters, at most 128; at least three of upper case, lower case,
    digits and symbols; not containing the username; not a common password.
    """
    reasons: list[str] = []
    if len(password) < MIN_PASSWORD_LENGTH:
        reasons.append(f"密码至少{MIN_PASSWORD_LENGTH}位")
    if len(password) > 128:
        reasons.append("密码最多128位")
    classes = sum((any(c.isupper() for c in password), any(c.islower() for c in password),
                   any(c.isdigit() for c in password), any(not c.isalnum() for c in password)))
    if classes < 3:
        reasons.append("密码须包含大写字母、小写字母、数字、符号中的至少三类")
    if username and len(username) >= 3 and username.lower() in password.lower():
        reasons.append("密码不能包含用户名")
    if password.lower() in COMMON_PASSWORDS:
        reasons.append("密码过于常见，请换一个")
    return reasons
