"""Our ids: a prefix and 14 base-62 characters, random in every position."""

from __future__ import annotations

import re

from payments_service.ids import new_id


def test_an_id_is_its_prefix_and_fourteen_base62_characters() -> None:
    assert re.fullmatch(r"ord_[A-Za-z0-9]{14}", new_id("ord"))


def test_ids_do_not_repeat_and_every_position_takes_every_character() -> None:
    ids = [new_id("pay")[4:] for _ in range(20_000)]

    assert len(set(ids)) == len(ids)
    for position in range(14):
        assert len({value[position] for value in ids}) == 62
