try:
    import socket
    s = socket.socket()
    report("ESCAPED socket %r" % s)
except BaseException as e:
    report("blocked %s" % type(e).__name__)
