# W^X: no executable memory for code injected through ctypes-like tricks.
try:
    import mmap
    m = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    report("ESCAPED exec mapping")
except BaseException as e:
    report("blocked %s" % type(e).__name__)
