"""The console's pure parts: forms, cookies, the problem log, kind groups and vendored assets."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from ocs.adapters.console.forms import FormState, config_payload, utc_datetime
from ocs.adapters.console.session import CookieCodec, SessionData, tokens_match
from ocs.adapters.console.views_config import CONFIG_GROUPS, record_values
from ocs.adapters.console.views_edrs import UNCLASSIFIED, EdrFilters, usage_of
from ocs.adapters.problem_log import ProblemEntry, ProblemLog
from ocs.core.configuration import SPECS, ConfigKind, Record
from ocs.core.edr import Edr, EdrType
from ocs.core.errors import DomainError, ProblemKind, invalid

CONSOLE = Path(__file__).resolve().parents[4] / "src" / "ocs" / "adapters" / "console"


def test_every_configuration_kind_is_in_exactly_one_group() -> None:
    grouped = [kind for _, kinds in CONFIG_GROUPS for kind in kinds]
    assert sorted(grouped) == sorted(ConfigKind)


def test_refusal_is_placed_next_to_its_field_or_above_the_form() -> None:
    duplicate = DomainError(ProblemKind.DUPLICATE, "taken", "code")
    state = FormState.failed(duplicate, 409, {"code": "X"}, ("code", "name"))
    assert (state.errors, state.general, state.status) == ({"code": "taken"}, [], 409)
    aliased = FormState.failed(invalid("name", "bad"), 422, {}, ("customer_name",),
                               {"name": "customer_name"})  # fmt: skip
    assert aliased.errors == {"customer_name": "bad"}
    reason = DomainError(ProblemKind.CHANGE_REASON_REQUIRED, "give a reason", "change_reason")
    assert FormState.failed(reason, 428, {}, ("code",)).general == ["give a reason"]


def test_checkbox_state_comes_from_the_values_once_a_form_was_posted() -> None:
    assert FormState().checked("primary", default=True)
    assert not FormState({"code": "X"}).checked("primary", default=True)
    assert FormState({"primary": "on"}).checked("primary")


def test_config_payload_types_each_field_and_leaves_code_out_on_edit() -> None:
    spec = SPECS[ConfigKind.CURRENCY]
    form = {"code": "SEK", "name": " Krona ", "description": "", "scale": "2"}
    assert config_payload(spec, form, with_code=True) == {
        "code": "SEK", "name": "Krona", "description": None, "scale": 2,
    }  # fmt: skip
    assert "code" not in config_payload(spec, form, with_code=False)
    with pytest.raises(DomainError) as caught:
        config_payload(spec, {**form, "scale": "two"}, with_code=True)
    assert caught.value.field == "scale"
    flags = config_payload(SPECS[ConfigKind.RESOURCE_TYPE], {"code": "A", "name": "A"}, True)
    assert flags["primary"] is False


def test_record_values_turn_a_stored_record_into_form_values() -> None:
    record: Record = {
        "code": "X",
        "primary": True,
        "charged": False,
        "scale": 0,
        "description": None,
    }
    assert record_values(record) == {"code": "X", "primary": "on", "scale": "0"}


def test_datetime_local_is_read_as_utc() -> None:
    assert utc_datetime({"at": "2099-01-01T09:30"}, "at") == datetime(2099, 1, 1, 9, 30, tzinfo=UTC)
    assert utc_datetime({"at": ""}, "at") is None
    with pytest.raises(DomainError) as caught:
        utc_datetime({"at": "tomorrow"}, "at")
    assert caught.value.field == "at"


def test_cookies_are_signed_and_tampering_is_detected() -> None:
    codec = CookieCodec("a-secret-for-tests")
    cookie = codec.dump_session(SessionData("tok", "DEMO"))
    assert codec.load_session(cookie) == SessionData("tok", "DEMO")
    assert codec.load_session(cookie[:-2] + "xx") is None
    assert CookieCodec("another-secret").load_session(cookie) is None
    assert codec.load_session(None) is None
    token, csrf_cookie = codec.new_csrf()
    assert codec.load_csrf(csrf_cookie) == token
    assert codec.load_session(csrf_cookie) is None  # a CSRF cookie is no session
    assert tokens_match(token, token)
    assert not tokens_match("", "")
    assert not tokens_match(token, None)


def _entry(n: int) -> ProblemEntry:
    return ProblemEntry(datetime.now(UTC), "api", "GET", f"/p{n}", 404, "not-found", "x", None)


def test_problem_log_keeps_only_the_newest_entries() -> None:
    log = ProblemLog(entries_max=3)
    for n in range(5):
        log.record(_entry(n))
    assert [e.path for e in log.recent(10)] == ["/p4", "/p3", "/p2"]
    assert [e.path for e in log.recent(1)] == ["/p4"]


def test_templates_load_nothing_from_other_sites() -> None:
    for template in (CONSOLE / "templates").rglob("*.html"):
        text = template.read_text()
        assert not re.search(r"""(src|href)=["'](https?:)?//""", text), template


def test_vendored_files_are_listed_with_their_checksums() -> None:
    vendor = CONSOLE / "static" / "vendor"
    listed = {}
    for line in (vendor / "VERSIONS.txt").read_text().splitlines():
        parts = line.split()
        if len(parts) == 5 and re.fullmatch(r"[0-9a-f]{64}", parts[4]):
            listed[parts[0]] = parts[4]
    assets = {p.name for p in vendor.iterdir() if p.suffix in (".js", ".css")}
    assert set(listed) == assets
    for name, digest in listed.items():
        assert hashlib.sha256((vendor / name).read_bytes()).hexdigest() == digest, name


def test_edr_filter_links_replace_or_drop_parameters_and_keep_repeated_ones() -> None:
    filters = EdrFilters({"category": ["CHARGE", "RECHARGE"], "sort": ["DATE"], "offset": ["50"]})
    assert parse_qs(filters.link(sort="COST", offset=None)) == {
        "category": ["CHARGE", "RECHARGE"],
        "sort": ["COST"],
    }
    assert filters.one("category") == "CHARGE"
    assert filters.one("tag") == ""


def test_usage_of_a_charge_comes_from_the_engine_detail_else_tags_and_duration() -> None:
    at = datetime(2026, 11, 1, tzinfo=UTC)
    engine = Edr(1, EdrType.CHARGE, at, 1, 1, None, None, None,
                 detail={"charging_class": "DATA", "units": 2_000_000})  # fmt: skip
    debit = Edr(2, EdrType.CHARGE, at, 1, 1, None, None, None,
                tags=(("charging_class", "VOICE"),), duration_s=120)  # fmt: skip
    bare = Edr(3, EdrType.CHARGE, at, 1, 1, None, None, None)
    assert usage_of(engine) == ("DATA", 2_000_000)
    assert usage_of(debit) == ("VOICE", 120)
    assert usage_of(bare) == (UNCLASSIFIED, 1)
