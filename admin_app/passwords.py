"""What an admin's password must be: long, not made of spaces, not one everybody tries first.

A length of 12 stops short guessable passwords; the list below stops the long ones that
password-spraying tools try first (from the public lists of most common passwords, the
entries of 12 characters or more, and their obvious shapes: one character repeated, a run of
the keyboard or of digits).
"""

from __future__ import annotations

MIN_LENGTH = 12

COMMON = frozenset({
    "123456789012", "1234567890123", "12345678901234", "123456789123", "1234567891011",
    "123123123123", "111111111111", "000000000000", "123412341234", "121212121212", "987654321098",
    "098765432109", "passwordpassword", "password1234", "password12345", "password123456",
    "password@123", "password!123", "passw0rd1234", "p@ssw0rd1234", "p@ssword1234",
    "mypassword123", "mypassword1234", "letmein12345", "qwertyuiopas", "qwertyuiop12",
    "qwertyuiop123", "qwerty123456", "qwerty1234567", "1qaz2wsx3edc", "1q2w3e4r5t6y",
    "1q2w3e4r5t6y7u", "asdfghjkl123", "zxcvbnm12345", "qazwsxedcrfv", "abcdefghijkl",
    "abc123456789", "abcd12345678", "iloveyou1234", "iloveyou12345", "welcome12345",
    "welcome123456", "administrator", "admin1234567", "admin12345678", "adminadmin123",
    "administrator1", "changeme1234", "sunshine1234", "football1234", "baseball1234",
    "princess1234", "starwars1234", "trustno11234", "monkey123456", "dragon123456", "master123456",
    "superman1234", "batman123456", "whatever1234",
})

_RUNS = ("abcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjklzxcvbnm", "01234567890",
         "09876543210")


def password_problem(password: str | None) -> str | None:
    """Why ``password`` may not be an admin's password, as a sentence; None when it may."""
    password = password or ""
    if not password.strip():
        return "Enter a password that is not made of spaces."
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    folded = password.strip().lower()
    if folded in COMMON or len(set(folded)) <= 2 or any(folded in run for run in _RUNS):
        return ("This password is one of the first that attackers try: choose a less common "
                "one (a few unrelated words work well).")
    return None
