"""Personal data masking: what a role may see of a natural person, a police or credit fact.

Rules (``docs/security.md``):

* natural-person names are shown masked (:func:`riskgraph.identifiers.mask_name`, ``张三`` →
  ``张某``) unless the scope has ``can_see_persons``;
* citizen IDs are only ever shown masked (``410502********1234``), for every role; a raw ID found
  in any value is masked before display;
* police clues, credit listings/reports and bank alerts are hidden (a placeholder) unless the
  scope has ``can_see_police_credit``;
* phone numbers of persons are shortened (``138****5678``) unless names may be seen.

Pure functions on dicts; they never change their input and fail closed (unknown person-like
fields are masked).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from dashboards.scope import Scope
from riskgraph.identifiers import is_masked_name, is_valid_citizen_id, mask_id, mask_name

RESTRICTED_LABELS: frozenset[str] = frozenset(
    {"PoliceClue", "CreditListing", "CreditReport", "BankAlert"})
"""Node labels holding police or credit details (as the dashboards' Cypher treats them)."""

RESTRICTED_SOURCES: frozenset[str] = frozenset(
    {"police", "credit", "bank", "公安", "经侦", "信用", "征信", "人民银行", "银行"})
"""Indicator sources whose details are police or credit facts."""

RESTRICTED_PREFIXES: tuple[str, ...] = ("police", "credit", "bank")
"""Indicator id prefixes of police and credit indicators (``police.clue``, ``credit.overdue``)."""

PERSON_NAME_FIELDS: tuple[str, ...] = ("name", "legal_rep", "controller", "person_name",
                                       "contact", "shareholder_name", "officer_name")
PERSON_ID_FIELDS: tuple[str, ...] = ("id", "id_no", "citizen_id", "id_number", "id_masked",
                                     "证件号码", "身份证号")
RESTRICTED_PLACEHOLDER = "受限信息"
"""What stands in for a police or credit fact the viewer may not see."""

_ID_IN_TEXT = re.compile(r"(?<![0-9])[1-9]\d{16}[\dXx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"^1\d{10}$")


def mask_person_name(scope: Scope, name: str | None) -> str | None:
    """``name`` when the scope may see persons, else the masked name."""
    if name is None or name == "" or scope.can_see_persons or is_masked_name(name):
        return name
    return mask_name(name)


def mask_citizen_id(value: str | None) -> str | None:
    """A citizen ID only ever masked (already masked values stay as they are)."""
    if value is None or value == "":
        return value
    text = str(value)
    if "*" in text or "＊" in text:
        return text
    return mask_id(text)


def mask_ids_in_text(text: str) -> str:
    """Every valid 18-character citizen ID inside free text masked."""
    def repl(match: re.Match[str]) -> str:
        code = match.group(0).upper()
        return mask_id(code) if is_valid_citizen_id(code) else match.group(0)
    return _ID_IN_TEXT.sub(repl, text)


def mask_phone(scope: Scope, number: str | None) -> str | None:
    """A mobile number shortened (``138****5678``) unless the scope may see persons."""
    if number is None or scope.can_see_persons:
        return number
    digits = str(number)
    if _MOBILE.match(digits):
        return digits[:3] + "****" + digits[-4:]
    return digits[:-4] + "****" if len(digits) > 4 else "****"


def mask_person(scope: Scope, person: Mapping[str, Any]) -> dict[str, Any]:
    """A Person (or Party) property map as the scope may see it: name masked without
    ``can_see_persons``, every ID-like field masked always, free text scrubbed of raw IDs."""
    out: dict[str, Any] = {}
    for key, value in person.items():
        if key in PERSON_ID_FIELDS:
            out[key] = mask_citizen_id(value)
        elif key == "name" and not scope.can_see_persons:
            out[key] = person.get("name_masked") or mask_person_name(scope, value)
        elif isinstance(value, str):
            out[key] = mask_ids_in_text(value)
        else:
            out[key] = value
    return out


def is_restricted_node(label: str | None) -> bool:
    """True for police and credit nodes."""
    return label in RESTRICTED_LABELS


def hide_restricted(scope: Scope, label: str | None, props: Mapping[str, Any]) -> dict[str, Any]:
    """A police/credit node's properties, or only a placeholder when the scope may not see
    them (label kept so the graph shape stays readable)."""
    if scope.can_see_police_credit or not is_restricted_node(label):
        return dict(props)
    return {"label": label, "name": RESTRICTED_PLACEHOLDER, "restricted": True}


def is_restricted_indicator(indicator: Mapping[str, Any]) -> bool:
    """True when an explanation indicator comes from police or credit data."""
    ident = str(indicator.get("id") or "")
    source = str(indicator.get("source") or "")
    return ident.startswith(RESTRICTED_PREFIXES) or source in RESTRICTED_SOURCES


def mask_enterprise(scope: Scope, enterprise: Mapping[str, Any]) -> dict[str, Any]:
    """An Enterprise property map with its natural-person fields (legal representative,
    controller) masked for scopes without ``can_see_persons``; IDs scrubbed for everyone."""
    out: dict[str, Any] = {}
    for key, value in enterprise.items():
        if key in PERSON_ID_FIELDS:
            out[key] = mask_citizen_id(value)
        elif key in PERSON_NAME_FIELDS and key != "name" and isinstance(value, str):
            out[key] = mask_person_name(scope, value)
        elif key == "phone" and isinstance(value, str):
            out[key] = mask_phone(scope, value)
        elif isinstance(value, str):
            out[key] = mask_ids_in_text(value)
        else:
            out[key] = value
    return out
