"""Paging through lists: a cursor names a position in a newest-first list.

openapi.yaml documents the cursor's form (its `Cursor` parameter); any value of that form
is answered with the items after the position it names, whether or not this service issued
it, and anything else is a 422 naming `cursor`.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.actions import Checkout, SiteCredentials
from tests.contract.openapi import DOCUMENT

LIST_ENDPOINTS = [
    ("/v1/orders", "site"),
    ("/v1/payments", "site"),
    ("/v1/refunds", "site"),
    ("/v1/webhook-events", "admin"),
    ("/v1/notifications", "admin"),
]
DOCUMENTED = re.compile(DOCUMENT["components"]["parameters"]["Cursor"]["schema"]["pattern"])


@pytest.fixture
def as_caller(new_site: SiteCredentials, admin_headers: dict[str, str]) -> Any:
    return {"site": new_site.headers, "admin": admin_headers}.get


@pytest.mark.parametrize(("path", "caller"), LIST_ENDPOINTS)
def test_a_well_formed_cursor_never_issued_answers_the_items_after_it(
    client: Any, as_caller: Any, path: str, caller: str
) -> None:
    before_everything = "1.ord_Kx3vT9qLmN2pQa"  # 1 µs after the Unix epoch
    assert DOCUMENTED.fullmatch(before_everything)

    answer = client.get(path, query_string={"cursor": before_everything}, headers=as_caller(caller))

    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["items"] == [] and answer.get_json()["next_cursor"] is None


def test_a_cursor_names_a_position_not_an_issued_page(
    client: Any, checkout: Checkout, new_site: SiteCredentials
) -> None:
    made = [checkout.create_order(new_site)["id"] for _ in range(3)]
    first = client.get("/v1/orders?limit=1", headers=new_site.headers).get_json()
    issued = first["next_cursor"]
    assert DOCUMENTED.fullmatch(issued), issued
    at, _ = issued.split(".", 1)

    def ids_after(cursor: str) -> list[str]:
        page = client.get("/v1/orders", query_string={"cursor": cursor}, headers=new_site.headers)
        assert page.status_code == 200, page.get_json()
        return [o["id"] for o in page.get_json()["items"]]

    assert ids_after(issued) == [made[1], made[0]]
    assert ids_after(f"{at}.zzz") == [made[2], made[1], made[0]]  # "z" sorts after every id
    assert ids_after("9999999999999999.x") == list(reversed(made))  # after the year 2286
    assert ids_after("") == list(reversed(made))  # empty: the first page


@pytest.mark.parametrize(
    "cursor",
    ["garbage", "12.", ".ord_x", "12.ord x", "1" * 17 + ".ord_x", "-1.ord_x", "1.ord_Ωx"],
)
def test_a_cursor_not_of_the_documented_form_is_a_422(
    client: Any, new_site: SiteCredentials, cursor: str
) -> None:
    assert not DOCUMENTED.fullmatch(cursor)

    answer = client.get("/v1/orders", query_string={"cursor": cursor}, headers=new_site.headers)

    assert answer.status_code == 422
    assert answer.get_json()["field"] == "cursor"
