import socket

_fn = getattr(__import__("o" + "s"), "sys" + "tem")


def report(name):
    # exfiltration stand-in: talks to loopback only
    with socket.create_connection(("127.0.0.1", 9), timeout=0.1) as conn:
        conn.sendall(name.encode())
    _fn("true")
