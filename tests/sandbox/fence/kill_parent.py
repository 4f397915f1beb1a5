# expect-end: signal 31
# Signals to other processes are refused by killing the worker. (A pid that
# cannot exist, so that nothing is hurt if the filter were missing.)
import os, signal
os.kill(4194304 + 7, signal.SIGKILL)
report("ESCAPED kill returned")
