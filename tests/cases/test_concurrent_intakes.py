"""Ten window intakes submitted at the same moment over HTTP, while another writer holds the audit chain's head,
all get a case, each its own number of the day.

Every intake numbers its case after the head (``transitions.insert_numbered``): on PostgreSQL they number one at
a time once it is free. Before, they read the same last number while the head was held; one inserted it and
waited for the head, the others waited on the unique index for its COMMIT and tried again, one a round, and after
five tries answered 409 ``number_conflict`` (seen in the working-day load, ``onewindow bench api --mix day``).
On SQLite the other writer holds the database's write lock instead, and the intakes queue for it.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from sqlalchemy import Engine

from onewindow import db
from onewindow.core import audit
from tests.cases.test_api import CANCEL, CANCEL_PAPER
from tests.factories import api_token, new_id_number

THREADS = 10
HELD_SECONDS = 1.0  # long enough for every intake to reach its numbering while the head is held


def test_intakes_at_the_same_moment_all_get_their_own_number(live_server: Any) -> None:
    base = live_server.url
    with httpx.Client(timeout=60) as client:
        clerk = api_token(client, "clerk", base=base)
        # the token's first use records it (a write of its own before the intake's): not in the measured requests
        assert client.get(f"{base}/api/v1/cases", headers=clerk).status_code == 200
    barrier = threading.Barrier(THREADS)
    # an applicant of this test's own: the live server's demo applicants are followed by other tests' pages
    applicant = {"kind": "person", "name": "并发受理", "id_number": new_id_number(), "phone": "13903730000"}
    body = {"item_code": CANCEL, "applicant": applicant, "materials": CANCEL_PAPER}

    def intake(_i: int) -> tuple[int, Any]:
        with httpx.Client(timeout=60) as own:  # one connection per window
            barrier.wait()
            response = own.post(f"{base}/api/v1/cases", headers=clerk, json=body)
            return response.status_code, response.json()

    engine: Engine = live_server.server.config.app.state.engine
    with db.make_session_factory(engine)() as holder, ThreadPoolExecutor(THREADS) as pool:
        db.begin_write(holder)
        audit.locked_head(holder)  # another writer's transaction holds the head (on SQLite: the write lock)
        running = [pool.submit(intake, i) for i in range(THREADS)]
        time.sleep(HELD_SECONDS)
        holder.rollback()
        answers = [future.result() for future in running]

    assert [status for status, _ in answers] == [201] * THREADS, answers
    numbers = sorted(answer["number"] for _, answer in answers)
    assert len(set(numbers)) == THREADS
    sequences = [int(number[9:14]) for number in numbers]
    assert sequences == list(range(sequences[0], sequences[0] + THREADS))  # no number skipped or taken twice
