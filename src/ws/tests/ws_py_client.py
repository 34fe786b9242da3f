"""ws_py_client.py: checks the /ws echo endpoint with Python's `websockets` library; one "OK name" or "FAIL name: why" line per case.

Usage: python3 ws_py_client.py PORT   (needs the websockets package, version 10 or later)
"""
import asyncio
import os
import sys

import websockets

PORT = int(sys.argv[1])
URL = f"ws://127.0.0.1:{PORT}/ws"


def connect():
    # compression="deflate" is the default: the client offers permessage-deflate.
    return websockets.connect(URL, compression="deflate", max_size=None, open_timeout=5, close_timeout=5)


async def echo(ws, data):
    await ws.send(data)
    got = await asyncio.wait_for(ws.recv(), 10)
    assert type(got) is type(data), f"sent {type(data).__name__}, echo is {type(got).__name__}"
    assert got == data, f"echo differs: sent {len(data)}, got {len(got)}"


async def close_with(ws, code, reason=""):
    await ws.close(code=code, reason=reason)
    assert ws.close_code == code, f"closed with {code}, the server answered {ws.close_code}"


async def offer_declined():
    async with connect() as ws:
        offered = ws.request_headers.get("Sec-WebSocket-Extensions", "")
        assert "permessage-deflate" in offered, f"the client did not offer permessage-deflate ({offered!r})"
        ext = ws.response_headers.get("Sec-WebSocket-Extensions")
        assert ext is None, f"101 carries Sec-WebSocket-Extensions: {ext}"
        assert not ws.extensions, f"negotiated extensions: {ws.extensions}"
        await echo(ws, "after the declined offer")
        await close_with(ws, 1000)


async def text_and_binary():
    async with connect() as ws:
        await echo(ws, "hello ✓ wörld 𝄞")
        await echo(ws, "")
        await echo(ws, os.urandom(1000))
        await echo(ws, b"")
        await close_with(ws, 1000)


async def large():
    async with connect() as ws:
        await echo(ws, os.urandom(1 << 20))
        await echo(ws, "é" * (1 << 19))
        await close_with(ws, 1000)


async def fragmented():
    async with connect() as ws:
        # An iterable is sent as one fragmented message, a frame per item.
        await ws.send(["part one, ", "part two, ", "part three"])
        got = await asyncio.wait_for(ws.recv(), 10)
        assert got == "part one, part two, part three", f"got {got!r}"
        blob = os.urandom(200000)
        await ws.send([blob[i:i + 50000] for i in range(0, len(blob), 50000)])
        got = await asyncio.wait_for(ws.recv(), 10)
        assert got == blob, f"fragmented binary came back as {type(got).__name__} of {len(got)}"
        await close_with(ws, 1000)


async def ping_pong():
    async with connect() as ws:
        for data in (b"ping-data", os.urandom(125)):
            waiter = await ws.ping(data)  # resolves only when a pong with this payload arrives
            await asyncio.wait_for(waiter, 5)
        await echo(ws, "after pings")
        await close_with(ws, 1000)


async def close_reason():
    async with connect() as ws:
        await echo(ws, "before close")
        await close_with(ws, 1000, "done ✓")
    async with connect() as ws:
        await close_with(ws, 4000, "application code")


async def many_in_flight():
    async with connect() as ws:
        for i in range(100):
            await ws.send(f"m{i}" if i % 2 == 0 else f"m{i}".encode())
        for i in range(100):
            got = await asyncio.wait_for(ws.recv(), 10)
            want = f"m{i}" if i % 2 == 0 else f"m{i}".encode()
            assert got == want, f"echo {i} is {got!r}"
        await close_with(ws, 1000)


CASES = [("permessage-deflate offer declined", offer_declined), ("text and binary keep their type", text_and_binary),
         ("1 MiB binary and text", large), ("fragmented text and binary", fragmented),
         ("ping with data gets the same pong", ping_pong), ("close codes and reasons", close_reason),
         ("100 messages in flight, in order", many_in_flight)]


async def main():
    failed = 0
    for name, fn in CASES:
        try:
            await asyncio.wait_for(fn(), 20)
            print(f"OK {name}", flush=True)
        except Exception as e:  # every failure is reported, then the next case runs
            failed += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
    return failed


if __name__ == "__main__":
    sys.exit(1 if asyncio.run(main()) else 0)
