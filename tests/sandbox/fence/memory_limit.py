try:
    b = bytearray(500 * 1024 * 1024)
    report("ESCAPED allocated %d" % len(b))
except MemoryError:
    report("blocked MemoryError")
