# expect-end: signal 31
import os
os.execv("/bin/cat", ["cat", CANARY])
report("ESCAPED exec returned")
