"""pipeline/parallel.py: results in order whichever way the work is spread; with
`per_worker`, fresh processes for every round of `jobs * per_worker` items;
a worker that dies is an environment problem with a message, not a hang or a traceback."""

from __future__ import annotations

import os
import signal
from collections import defaultdict

import pytest

from pipeline import parallel
from pipeline.errors import EnvironmentProblem

pytestmark = pytest.mark.skipif(not parallel.fork_available(), reason="needs fork")


def _pid_and_square(state, item):
    return os.getpid(), state * item * item


def _dies_on_three(state, item):
    if item == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return item


@pytest.mark.parametrize("per_worker", [None, 1, 2, 5])
def test_results_are_in_order_and_each_round_has_its_own_workers(per_worker):
    items = list(range(23))
    found = parallel.fork_map(_pid_and_square, 10, items, jobs=2, per_worker=per_worker)
    assert [value for _pid, value in found] == [10 * i * i for i in items]
    rounds_of: dict[int, set] = defaultdict(set)  # pid -> the rounds whose items it ran
    for index, (pid, _value) in enumerate(found):
        rounds_of[pid].add(0 if per_worker is None else index // (2 * per_worker))
    assert os.getpid() not in rounds_of  # the work ran in workers
    assert all(len(rounds) == 1 for rounds in rounds_of.values())
    rounds = 1 if per_worker is None else -(-len(items) // (2 * per_worker))
    assert rounds <= len(rounds_of) <= 2 * rounds


def test_one_job_runs_here():
    found = parallel.fork_map(_pid_and_square, 1, [1, 2, 3, 4], jobs=1, per_worker=1)
    assert {pid for pid, _v in found} == {os.getpid()}


@pytest.mark.parametrize("per_worker", [None, 2])
def test_a_killed_worker_is_an_environment_problem(per_worker):
    with pytest.raises(EnvironmentProblem) as caught:
        parallel.fork_map(_dies_on_three, None, list(range(8)), jobs=2, per_worker=per_worker)
    assert "worker process" in str(caught.value)
    assert "HEALTHCOOP_JOBS=1" in caught.value.fix


def _slow_after_two(state, item):
    """Note the item in the file `state`; items from 2 on take half a second."""
    if item >= 2:
        import time

        time.sleep(0.5)
    with open(state, "a", encoding="utf-8") as out:
        out.write(f"{item}\n")
    return item


def test_results_come_one_at_a_time_and_stopping_early_does_not_wait_for_the_rest(tmp_path):
    """fork_imap gives each result as soon as it is there (before the later items are
    done), and a caller that stops early does not wait for the items still queued (those
    running finish); the state is let go afterwards."""
    import contextlib

    done = tmp_path / "done"
    done.touch()
    with contextlib.closing(parallel.fork_imap(_slow_after_two, str(done), list(range(40)),
                                               jobs=2)) as results:
        assert next(results) == 0 and next(results) == 1
        assert len(done.read_text().split()) < 40
    ran = len(done.read_text().split())
    assert ran < 40  # (40 items of half a second on two workers: ten seconds)
    assert parallel._STATE is None and parallel._FUNC is None
