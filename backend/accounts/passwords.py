"""Password hashing and the password policy (NIST SP 800-63B style: length and a deny-list, no composition rules)."""

from passlib.context import CryptContext

MIN_LENGTH = 12
MAX_LENGTH = 128

password_context = CryptContext(schemes=["argon2"], deprecated="auto")

# The most common passwords long enough to pass the length rule, plus this service's own words.
COMMON_PASSWORDS = frozenset({
    "123456789012", "1234567890123", "12345678901234", "password1234", "password12345",
    "passwordpassword", "qwertyuiop12", "qwertyuiopasdf", "111111111111", "000000000000",
    "abc123abc123", "iloveyou1234", "adminadmin123", "letmein12345", "welcome12345",
    "internmatch123", "internmatch2026", "hongkong1234", "hongkong12345", "changeme1234",
    "football1234", "baseball1234", "sunshine1234", "princess1234", "trustno11234",
    "aaaaaaaaaaaa", "asdfghjkl123", "zxcvbnm12345", "qazwsxedc123", "1q2w3e4r5t6y",
    "passw0rd1234", "p@ssw0rd1234", "monkey123456", "dragon123456", "master123456",
})


def password_problem(password: str) -> str | None:
    """A message code for what is wrong with a new password, or None if it is acceptable."""
    if len(password) < MIN_LENGTH:
        return "too_short"
    if len(password) > MAX_LENGTH:
        return "too_long"
    if password.lower() in COMMON_PASSWORDS or len(set(password)) < 4:
        return "too_common"
    return None


def hash_password(password: str) -> str:
    return password_context.hash(password)


def verify_password(password: str, password_hash: str | None) -> tuple[bool, str | None]:
    """(matches, new_hash): new_hash is set when the stored hash used outdated parameters."""
    if not password_hash:
        # Hash anyway so an unknown account takes as long as a known one.
        password_context.dummy_verify()
        return False, None
    return password_context.verify_and_update(password, password_hash)
