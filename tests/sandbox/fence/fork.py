# expect-end: signal 31
import os
report("forking")
os.fork()
report("ESCAPED fork returned")
