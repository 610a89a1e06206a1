"""smm_plugins.compare.shipping: shipped benchmark directories unpacked safely by concurrent workers."""

from __future__ import annotations

import os


def test_materialise_is_safe_when_workers_unpack_the_same_directory_at_once(tmp_path, monkeypatch) -> None:
    # Two Ray workers on one node unpack the same shipped directory: neither may see it half-written.
    import tempfile
    import threading

    from smm_plugins.compare import shipping

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    files = {f"part{k:02d}.json": bytes([k]) * 200_000 for k in range(40)}
    files["label.json"] = b'{"x": ["a"]}'
    n = 6
    barrier = threading.Barrier(n)
    seen: list[tuple[str, bool]] = []

    def worker() -> None:
        barrier.wait()
        target = shipping.materialise("some/bench", files)
        complete = all(
            (os.path.isfile(os.path.join(target, rel)) and open(os.path.join(target, rel), "rb").read() == data)
            for rel, data in files.items()
        )
        seen.append((target, complete))

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == n and len({t for t, _ in seen}) == 1
    assert all(ok for _, ok in seen), "a worker got a directory before all its files were written"
    leftovers = [p.name for p in os.scandir(os.path.dirname(seen[0][0])) if p.name != os.path.basename(seen[0][0])]
    assert leftovers == []  # losers of the race clean up their staging copies
