"""Check-character algorithms and masking, on known-good and known-bad codes."""

from pathlib import Path

import pytest

from riskgraph import identifiers as ids


@pytest.mark.parametrize("code", ["91110000600037341L", "91350100M000100Y43"])
def test_known_good_usccs(code: str) -> None:
    assert ids.is_valid_uscc(code)


@pytest.mark.parametrize(
    "code",
    ["91110000600037341A", "9111000060003734", "91110000600037341l", "I1110000600037341L", ""],
)
def test_known_bad_usccs(code: str) -> None:
    assert not ids.is_valid_uscc(code)


def test_uscc_check_char_roundtrip_and_division() -> None:
    body = "91410502MA3X7K2P1"
    code = body + ids.uscc_check_char(body)
    assert ids.is_valid_uscc(code)
    assert ids.uscc_division(code) == "410502"


def test_citizen_id_check() -> None:
    assert ids.is_valid_citizen_id("11010519491231002X")
    assert not ids.is_valid_citizen_id("110105194912310021")  # wrong check character
    body = "41050119800230123"  # 30 February: impossible is still caught only by day range
    assert ids.id_check_char(body) in "0123456789X"
    assert not ids.is_valid_citizen_id("410502199013401234")  # month 13


def test_abolished_prefix_stays_valid() -> None:
    body = "41050119750612003"  # 410501 安阳市市辖区, no longer in the list
    assert ids.is_valid_citizen_id(body + ids.id_check_char(body))


def test_regno_mod_11_10() -> None:
    assert ids.is_valid_regno("110108000000016")
    assert not ids.is_valid_regno("110108000000017")


def test_masking() -> None:
    assert ids.mask_id("11010519491231002X") == "110105********002X"
    assert ids.mask_name("张三") == "张某"
    assert ids.mask_name("欧阳娜娜") == "欧某某某"
    assert ids.is_masked_name("李某某")
    assert not ids.is_masked_name("李明")
    assert ids.is_masked_id("410502********1234")


def test_hash_key_is_created_once_private_and_stable(tmp_path: Path) -> None:
    key = ids.load_hash_key(tmp_path / "secrets")
    assert (tmp_path / "secrets" / "hash_key").stat().st_mode & 0o777 == 0o600
    assert ids.load_hash_key(tmp_path / "secrets") == key
    a = ids.person_key("11010519491231002X", key)
    assert a.startswith("P:") and "1949" not in a
    assert ids.person_key("11010519491231002x", key) == a
    assert ids.person_key("11010519491231002X", b"other") != a
