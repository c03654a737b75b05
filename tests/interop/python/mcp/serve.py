"""Serves an ASGI app on a loopback port with uvicorn and prints `listening on <url>` once it
takes connections, for the test that started it to read; ends when its standard input closes."""

import asyncio
import sys
import threading

import uvicorn


def serve(app, port: int, url: str) -> None:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))

    async def run() -> None:
        serving = asyncio.create_task(server.serve())
        while not server.started:
            if serving.done():
                await serving
                raise SystemExit(f"the server did not start on port {port}")
            await asyncio.sleep(0.02)
        print(f"listening on {url}", flush=True)
        await serving

    def until_stdin_ends() -> None:
        sys.stdin.read()
        server.should_exit = True

    threading.Thread(target=until_stdin_ends, daemon=True).start()
    asyncio.run(run())
