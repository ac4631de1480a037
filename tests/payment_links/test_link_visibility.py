"""Who sees which payment links: a site its own (another site's is a 404, to fetch or to
cancel), an admin every site's; lists are cursor-paginated like the others."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.actions import PaymentLinks, SiteCredentials, link_body
from tests.contract.openapi import assert_problem

LINKS = "/v1/payment-links"


def _other_site_link(client: FlaskClient, admin_headers: dict[str, str]) -> dict[str, Any]:
    body = link_body(site_id="old-site", return_url="http://old.localhost:8021/done")
    answer = client.post(LINKS, json=body, headers=admin_headers)
    assert answer.status_code == 201, answer.get_json()
    return dict(answer.get_json())


def test_a_site_lists_only_its_own_links_and_an_admin_every_sites(
    client: FlaskClient,
    links: PaymentLinks,
    seller: SiteCredentials,
    other_site: SiteCredentials,
    admin_headers: dict[str, str],
) -> None:
    mine = [links.create(seller.headers) for _ in range(3)]
    theirs = _other_site_link(client, admin_headers)

    first = client.get(f"{LINKS}?limit=2", headers=seller.headers).get_json()
    rest = client.get(
        f"{LINKS}?limit=2&cursor={first['next_cursor']}", headers=seller.headers
    ).get_json()
    everyone = client.get(LINKS, headers=admin_headers).get_json()
    only_old = client.get(f"{LINKS}?site_id=old-site", headers=admin_headers).get_json()
    ignored = client.get(f"{LINKS}?site_id=old-site", headers=seller.headers).get_json()

    seen = [link["id"] for link in first["items"] + rest["items"]]
    assert seen == [link["id"] for link in reversed(mine)]
    assert rest["next_cursor"] is None
    assert {link["id"] for link in everyone["items"]} == {made["id"] for made in [*mine, theirs]}
    assert [link["id"] for link in only_old["items"]] == [theirs["id"]]
    assert theirs["id"] not in {link["id"] for link in ignored["items"]}


def test_the_list_filters_by_status(
    client: FlaskClient, links: PaymentLinks, seller: SiteCredentials
) -> None:
    open_link, cancelled = links.create(seller.headers), links.create(seller.headers)
    client.post(f"{LINKS}/{cancelled['id']}/cancel", headers=seller.headers)

    listed = client.get(f"{LINKS}?status=cancelled", headers=seller.headers).get_json()

    assert [link["id"] for link in listed["items"]] == [cancelled["id"]]
    assert open_link["id"] not in {link["id"] for link in listed["items"]}


def test_another_sites_link_is_not_found_to_fetch_or_cancel(
    client: FlaskClient,
    seller: SiteCredentials,
    other_site: SiteCredentials,
    admin_headers: dict[str, str],
    db_rows: Any,
) -> None:
    theirs = _other_site_link(client, admin_headers)

    fetched = client.get(f"{LINKS}/{theirs['id']}", headers=seller.headers)
    cancelled = client.post(f"{LINKS}/{theirs['id']}/cancel", headers=seller.headers)

    assert_problem(fetched, f"{LINKS}/{{link_id}}", 404, "not_found")
    assert_problem(cancelled, f"{LINKS}/{{link_id}}/cancel", 404, "not_found")
    assert db_rows("SELECT status FROM payment_links") == [{"status": "created"}]
    assert client.get(f"{LINKS}/{theirs['id']}", headers=other_site.headers).status_code == 200


def test_an_admin_cancels_any_sites_link(
    client: FlaskClient, links: PaymentLinks, seller: SiteCredentials, admin_headers: dict[str, str]
) -> None:
    link = links.create(seller.headers)

    answer = client.post(f"{LINKS}/{link['id']}/cancel", headers=admin_headers)

    assert answer.status_code == 200 and answer.get_json()["status"] == "cancelled"


def test_an_unknown_link_is_not_found(client: FlaskClient, seller: SiteCredentials) -> None:
    answer = client.get(f"{LINKS}/plink_Nobody00000001", headers=seller.headers)
    assert_problem(answer, f"{LINKS}/{{link_id}}", 404, "not_found")
