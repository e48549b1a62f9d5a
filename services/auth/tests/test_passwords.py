"""Password policy: length, the bundled common-password list, and guessable structure."""

from __future__ import annotations

import pytest

from aujobs_auth.passwords import common_passwords, password_weakness


def test_the_bundled_list_is_loaded():
    words = common_passwords()
    assert len(words) > 3000
    assert {"password", "123456", "qwertyuiop", "iloveyou", "australia", "kangaroo"} <= words


@pytest.mark.parametrize(
    "password",
    [
        "password1234",  # listed
        "Password2026!",  # common word + year + symbol
        "P@ssw0rd1234",  # leetspeak
        "qwertyuiop12",  # keyboard walk
        "1q2w3e4r5t6y",
        "zxcvbnmasdfg",
        "abcdefghijkl",  # sequences
        "987654321098",
        "aaaaaaaaaaaa",  # repeated
        "abcabcabcabc",
        "passwordpassword",
        "australiajobs1",  # the site's name
        "AustraliaJobs2026",
        "monkeydragon12",  # two common words
        "drowssap12345",  # reversed
    ],
)
def test_guessable_passwords_are_refused(password):
    assert password_weakness(password) is not None


def test_the_email_is_not_a_password():
    email = "jane.citizen@example.com.au"
    assert password_weakness("jane.citizen1", email=email) is not None
    assert password_weakness("JaneCitizen1990", email=email) is not None
    assert password_weakness("JaneCitizen1990", email="someone@else.com.au") is None


@pytest.mark.parametrize(
    "password", ["correct horse battery", "Xk9#mQ2$vL7p", "my dog eats carrots", "Tr0ub4dor&3xx"]
)
def test_strong_passwords_pass(password):
    assert password_weakness(password) is None


def test_too_short():
    assert "12 characters" in (password_weakness("Xk9#mQ2$vL7", min_length=12) or "")


@pytest.mark.parametrize("password", ["Password2026!", "qwertyuiop12", "australiajobs1"])
async def test_registration_refuses_a_common_password_clearly(auth, h, password):
    email = h.new_email()
    r = await auth.post(
        "/api/v1/auth/register", json={"email": email, "password": password, "role": "employer"}
    )
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["type"].endswith("weak-password")
    assert problem["errors"][0]["field"] == "password"
    assert password not in r.text  # never echoed
    login = await auth.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert login.status_code == 401  # nothing was created
