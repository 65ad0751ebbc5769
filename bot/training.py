"""Train the Rasa model only when its inputs changed.

`python -m bot.training` hashes what the model is built from (config, domain, training data
and the custom NLU component) and retrains when the hash differs from the one stored beside
the model, so `make run`, `make serve` and the tests share one model and train it once.
"""

from __future__ import annotations

import fcntl
import hashlib
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "knee.tar.gz"
STAMP = MODEL.with_suffix("").with_suffix(".fingerprint")
INPUTS = ("config.yml", "domain/*.yml", "data/**/*.yml", "bot/nlu/component.py", "bot/language_gate.py")


def fingerprint() -> str:
    digest = hashlib.sha256()
    for pattern in INPUTS:
        for path in sorted(ROOT.glob(pattern)):
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def is_stale() -> bool:
    return not MODEL.exists() or not STAMP.exists() or STAMP.read_text().strip() != fingerprint()


def ensure_model() -> Path:
    """Train if the model is missing or stale; return its path.

    An exclusive lock beside the model makes concurrent callers (parallel test runs, `make run`
    while tests run) wait for one training instead of writing the same file at once.
    """
    if not is_stale():
        return MODEL
    MODEL.parent.mkdir(exist_ok=True)
    with MODEL.with_suffix(".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if is_stale():
            _train()
    return MODEL


def _train() -> None:
    print("Training the model (config or data changed)...", file=sys.stderr, flush=True)
    started = time.monotonic()
    stamp = fingerprint()  # what this training reads: an edit made while it runs must trigger the next one
    rasa = Path(sys.executable).with_name("rasa")
    subprocess.run(
        [str(rasa), "train", "--fixed-model-name", MODEL.name.removesuffix(".tar.gz"), "--out", str(MODEL.parent),
         "--config", "config.yml", "--domain", "domain", "--data", "data"],
        cwd=ROOT,
        check=True,
    )
    STAMP.write_text(stamp + "\n")
    print(f"Trained in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)


if __name__ == "__main__":
    try:
        ensure_model()
    except subprocess.CalledProcessError as exc:
        sys.exit(f"error: training failed ({exc.returncode})")
