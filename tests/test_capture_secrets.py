"""Secret detection: recall on the corpus of formats, false positives on ordinary code.

Run with ``-s`` to see the table (bench/secrets_recall.py prints the same, typed through
the outbox as well).
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from edittrace.capture.masking import mask_content, mask_spans
from edittrace.capture.secrets import find_secrets, secret_spans, shannon_entropy
from tests.secrets_corpus import negatives, positives


def covered(text: str, start: int, end: int) -> bool:
    spans = secret_spans(text)
    return all(
        any(a <= i < b for a, b in spans) for i in range(start, end) if text[i] not in "\r\n"
    )


def test_recall_is_complete_on_every_format_of_the_corpus() -> None:
    found: dict[str, list[bool]] = defaultdict(list)
    for sample in positives():
        found[sample.format].append(covered(sample.text, sample.start, sample.end))
    print("\nformat                    samples  recall")
    for fmt, hits in sorted(found.items()):
        print(f"{fmt:<25} {len(hits):>7}  {sum(hits) / len(hits):>6.0%}")
    assert len(positives()) >= 40 and len(found) >= 20
    missed = {fmt: hits.count(False) for fmt, hits in found.items() if not all(hits)}
    assert missed == {}


def test_ordinary_code_is_not_masked() -> None:
    total = masked = 0
    print("\nnegative file          chars  masked")
    for name, text in negatives():
        spans = secret_spans(text)
        hidden = sum(end - start for start, end in spans)
        total, masked = total + len(text), masked + hidden
        print(f"{name:<20} {len(text):>7}  {hidden:>6}  {[text[a:b] for a, b in spans]}")
    print(f"false positive rate: {masked / total:.3%} of {total} characters")
    assert total > 8_000
    assert masked == 0


@pytest.mark.parametrize(
    "text",
    [
        "request_id = '0f8fad5b-d9cb-469f-a165-70867728950e'",  # UUIDs are identifiers
        "path = 'src/edittrace/capture/masking_helpers_2/module.py'",
        "def test_users_can_reset_their_password_twice_2() -> None:",
        "password = get_password_from_vault(name)",
        "def login(username: str, password: str) -> Token:",
        "token = self.session.token",
        "if not token:\n    raise Unauthorized()",
        "password_hash = bcrypt.hashpw(password, salt)",
        "TOKEN_TTL_SECONDS = 3600",
        "DATABASE_PASSWORD=",
        "headers = {'Authorization': f'Bearer {token}'}",
        "api_key = os.environ['OPENAI_API_KEY']",
        "const apiKey = process.env.API_KEY;",
        "export const selectAuthenticatedUserPreferences = createSelector(",
    ],
)
def test_code_that_only_talks_about_secrets_is_left_alone(text: str) -> None:
    assert find_secrets(text) == []


@pytest.mark.parametrize(
    "text, secret",
    [
        ("PASSWORD=letmeinplease\n", "letmeinplease"),  # .env: a bare value is a literal
        ("db:\n  password: hunter22\n", "hunter22"),
        ('"client_secret": "abc123xyz"', "abc123xyz"),
        ("postgres://app:s3cr3t-pw@db:5432/app", "s3cr3t-pw"),
        (
            "commit = 'e83c5163316f89bfbde7d9ab23ca2e25604af290'",
            "e83c5163316f89bfbde7d9ab23ca2e25604af290",
        ),
        ("blob = 'q8Vz2LmN4pR7sT1wX9yB3cD6fG0hJ5kA'", "q8Vz2LmN4pR7sT1wX9yB3cD6fG0hJ5kA"),
    ],
)
def test_literal_secrets_are_found(text: str, secret: str) -> None:
    start = text.index(secret)
    assert covered(text, start, start + len(secret))


def test_an_unterminated_private_key_is_masked_as_it_is_typed() -> None:
    text = (
        "key = '''\n-----BEGIN EC PRIVATE KEY-----\n"
        "MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk\nMHcCAQEE"
    )
    body = text.index("-----BEGIN")
    assert covered(text, body, len(text))


def test_masking_keeps_lengths_in_every_position_encoding_and_keeps_newlines() -> None:
    text = "pw = 'Grüße€😀x'\nnext line"
    start = text.index("G")
    end = text.index("'", start)
    masked = mask_spans(text, [(start, end)])
    assert masked.startswith("pw = '*")
    assert "Grüße" not in masked and masked.endswith("'\nnext line")
    assert len(masked) == len(text)
    for codec in ("utf-8", "utf-16-le", "utf-32-le"):
        assert len(masked.encode(codec)) == len(text.encode(codec))
    assert mask_spans("a\r\nb", [(0, 4)]) == "*\r\n*"


def test_known_secrets_and_their_fragments_are_masked_anywhere() -> None:
    secret = "Zq81LmNp0Rs7Tu2V"
    assert mask_content(f"the word {secret} here", {secret}) == f"the word {'*' * 16} here"
    assert secret[5:] not in mask_content(f"cut: {secret[5:]}!", {secret})
    assert mask_content("nothing to see", {secret}) == "nothing to see"


def test_entropy_separates_random_keys_from_words() -> None:
    assert shannon_entropy("") == 0.0
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("abcd") == 2.0
    assert shannon_entropy("q8Vz2LmN4pR7sT1wX9yB3cD6fG0hJ5kA") > 4.5
    assert shannon_entropy("selectAuthenticatedUser") < 4.0
