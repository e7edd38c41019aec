"""On the PYTHONPATH of the server tests/app/test_workers.py starts: each process multiprocessing spawns
(each worker of `serve --workers N`) sleeps before it imports anything, as one does on a busy machine."""

import sys
import time

SPAWNED_FLAG = "--multiprocessing-fork"  # the argument multiprocessing's spawn start method passes a child
START_DELAY_SECONDS = 8  # longer than uvicorn's default health-check timeout of 5 s

if SPAWNED_FLAG in sys.argv:
    time.sleep(START_DELAY_SECONDS)
