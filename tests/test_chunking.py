"""Tier 1: chunk plans, id parsing and limits (scoopjoy.core.chunking, no frappe)."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoopjoy.core.chunking import (
	DEFAULT_CHUNK_SIZE,
	MAX_CHUNK_SIZE,
	MAX_IDS,
	BulkInputError,
	build_plan,
	chunked,
	parse_ids,
	percent,
	plan_chunks,
	validate_chunk_size,
)


def test_comma_string_is_split_stripped_and_blanks_ignored():
	ids, dupes = parse_ids(" SJ-MUM-001, SJ-DEL-001 ,,SJ-BLR-001,")
	assert ids == ["SJ-MUM-001", "SJ-DEL-001", "SJ-BLR-001"]
	assert dupes == 0


def test_json_array_string_is_accepted():
	ids, _ = parse_ids(json.dumps(["A", "B", "A"]))
	assert ids == ["A", "B"]


def test_bad_json_array_string_names_the_problem():
	with pytest.raises(BulkInputError) as err:
		parse_ids('["A", "B"')
	assert err.value.code == "ids_bad_json"
	assert err.value.field == "ids"


def test_list_dedupes_keeping_first_order():
	ids, dupes = parse_ids(["c", "a", "c", "b", "a", " b "])
	assert ids == ["c", "a", "b"]
	assert dupes == 3


def test_ints_are_names_too():
	ids, _ = parse_ids([1, 2, 2])
	assert ids == ["1", "2"]


@pytest.mark.parametrize(
	"value,code,field",
	[
		(None, "ids_missing", "ids"),
		("", "ids_empty", "ids"),
		(" , ,", "ids_empty", "ids"),
		([], "ids_empty", "ids"),
		(["a", "  "], "id_blank", "ids[1]"),
		(["a", None], "id_bad_type", "ids[1]"),
		(["a", True], "id_bad_type", "ids[1]"),
		(["a", {"x": 1}], "id_bad_type", "ids[1]"),
		({"a": 1}, "ids_bad_type", "ids"),
		(42, "ids_bad_type", "ids"),
		('["a", ""]', "id_blank", "ids[1]"),
	],
)
def test_bad_ids_get_clear_errors(value, code, field):
	with pytest.raises(BulkInputError) as err:
		parse_ids(value)
	assert err.value.code == code
	assert err.value.field == field
	assert str(err.value)


def test_json_array_with_trailing_garbage_is_rejected():
	with pytest.raises(BulkInputError) as err:
		parse_ids('["a"]x')
	assert err.value.code == "ids_bad_json"


def test_too_long_id_names_position():
	with pytest.raises(BulkInputError) as err:
		parse_ids(["ok", "x" * 141])
	assert err.value.code == "id_too_long"
	assert err.value.field == "ids[1]"


def test_max_ids_counts_unique_ids():
	ids = [f"R-{i}" for i in range(MAX_IDS)]
	assert len(parse_ids(ids + ids[:50])[0]) == MAX_IDS
	with pytest.raises(BulkInputError) as err:
		parse_ids([*ids, "one-more"])
	assert err.value.code == "ids_too_many"
	assert err.value.params == {"count": MAX_IDS + 1, "maximum": MAX_IDS}


def test_max_ids_is_configurable():
	with pytest.raises(BulkInputError):
		parse_ids("a,b,c", max_ids=2)


@pytest.mark.parametrize("value,expected", [(1, 1), ("200", 200), (" 7 ", 7), (1000, 1000), (50.0, 50)])
def test_chunk_size_accepts_whole_numbers(value, expected):
	assert validate_chunk_size(value) == expected


@pytest.mark.parametrize(
	"value,code",
	[
		(0, "chunk_size_too_small"),
		(-5, "chunk_size_too_small"),
		("-5", "chunk_size_too_small"),
		(MAX_CHUNK_SIZE + 1, "chunk_size_too_large"),
		("abc", "chunk_size_not_int"),
		(2.5, "chunk_size_not_int"),
		(True, "chunk_size_not_int"),
		(None, "chunk_size_not_int"),
	],
)
def test_chunk_size_limits(value, code):
	with pytest.raises(BulkInputError) as err:
		validate_chunk_size(value)
	assert err.value.code == code
	assert err.value.field == "chunk_size"


def test_plan_chunks_numbers_and_slices():
	plan = plan_chunks([f"r{i}" for i in range(7)], 3)
	assert plan.count == 3
	assert [c.number for c in plan.chunks] == [1, 2, 3]
	assert [c.start for c in plan.chunks] == [0, 3, 6]
	assert [c.ids for c in plan.chunks] == [("r0", "r1", "r2"), ("r3", "r4", "r5"), ("r6",)]
	assert plan.total == 7


def test_build_plan_reports_duplicates_and_uses_default_size():
	plan = build_plan("a,b,a,c")
	assert plan.chunk_size == DEFAULT_CHUNK_SIZE
	assert plan.ids == ("a", "b", "c")
	assert plan.duplicates_removed == 1
	assert plan.count == 1


def test_build_plan_validates_chunk_size_before_ids():
	with pytest.raises(BulkInputError) as err:
		build_plan(None, 5000)
	assert err.value.field == "chunk_size"


@given(
	ids=st.lists(st.text(alphabet="abcdefgh-0123", min_size=1, max_size=6), min_size=1, max_size=300),
	size=st.integers(min_value=1, max_value=MAX_CHUNK_SIZE),
)
def test_plan_is_a_stable_partition(ids, size):
	plan = build_plan(ids, size)
	flat = [i for chunk in plan.chunks for i in chunk.ids]
	assert flat == list(dict.fromkeys(ids))  # every unique id once, in first-seen order
	assert all(1 <= chunk.size <= size for chunk in plan.chunks)
	assert all(chunk.size == size for chunk in plan.chunks[:-1])
	assert plan.count == -(-len(flat) // size)
	assert build_plan(ids, size) == plan


def test_chunked_yields_offsets():
	assert list(chunked(list(range(5)), 2)) == [(0, [0, 1]), (2, [2, 3]), (4, [4])]
	with pytest.raises(ValueError):
		list(chunked([1], 0))


@pytest.mark.parametrize(
	"done,total,expected", [(0, 10, 0), (5, 10, 50), (10, 10, 100), (11, 10, 100), (0, 0, 100), (1, 3, 33)]
)
def test_percent(done, total, expected):
	assert percent(done, total) == expected
