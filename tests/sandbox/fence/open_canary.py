# The OS fence alone: full Python after lock-down cannot open a file.
try:
    report("ESCAPED " + open(CANARY).read())
except OSError as e:
    report("blocked open: %s" % e)
import os
try:
    fd = os.open(CANARY, os.O_RDONLY)
    report("ESCAPED fd %d" % fd)
except OSError as e:
    report("blocked os.open: %s" % e)
