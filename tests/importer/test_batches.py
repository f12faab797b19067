"""How an import cuts its rows into bulk batches: about `size` devices each (a stack counts each member),
as many batches as a multiple of the workers, rows kept in order (pure)."""

from __future__ import annotations

from types import SimpleNamespace

from core.importer.run import batches_of


def rows(*members: int) -> list[SimpleNamespace]:
    """A row per number: 1 is a lone device, n > 1 a stack of n members."""
    return [
        SimpleNamespace(n=i, stack=SimpleNamespace(members=(None,) * m) if m > 1 else None)
        for i, m in enumerate(members)
    ]


def sizes(batches) -> list[int]:
    return [sum(len(r.stack.members) if r.stack else 1 for r in b) for b in batches]


def test_every_worker_gets_a_batch_when_the_rows_would_fill_fewer_batches() -> None:
    batches = batches_of(rows(*[1] * 100), size=50, workers=3)
    assert sorted(sizes(batches)) == [33, 33, 34]


def test_large_imports_are_cut_by_the_batch_size_into_a_multiple_of_the_workers() -> None:
    assert sizes(batches_of(rows(*[1] * 500), size=50, workers=2)) == [50] * 10
    batches = batches_of(rows(*[1] * 500), size=50, workers=3)  # 10 needed: 12, no batch left alone
    assert len(batches) == 12 and max(sizes(batches)) <= 50 and sum(sizes(batches)) == 500


def test_a_stack_weighs_its_members_so_batches_create_about_as_many_devices() -> None:
    batches = batches_of(rows(8, 8, 8, *[1] * 24), size=50, workers=2)
    assert sizes(batches) == [24, 24]
    assert [r.n for b in batches for r in b] == list(range(27))  # order kept


def test_there_are_never_more_batches_than_rows_and_no_batch_is_empty() -> None:
    assert [len(b) for b in batches_of(rows(1, 4), size=50, workers=3)] == [1, 1]
    assert all(batches_of(rows(10, 1, 1), size=50, workers=3))
    assert batches_of([], size=50, workers=3) == []
