"""`onemind secrets encrypt` makes an enc: value the configuration loads back."""

from __future__ import annotations

import os
import subprocess
import sys

from cryptography.fernet import Fernet

from onemind.config.secrets import resolve


def test_an_encrypted_value_resolves_to_what_was_typed() -> None:
    key = Fernet.generate_key().decode()
    env = {**os.environ, "ONEMIND_SECRET_KEY": key}
    done = subprocess.run(
        [sys.executable, "-m", "onemind", "secrets", "encrypt"],
        input="s3cret password",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    value = done.stdout.strip()
    assert value.startswith("enc:") and "s3cret" not in value
    assert resolve(value, {"ONEMIND_SECRET_KEY": key}).get() == "s3cret password"


def test_without_a_key_it_says_which_variable_is_missing() -> None:
    env = {k: v for k, v in os.environ.items() if k != "ONEMIND_SECRET_KEY"}
    done = subprocess.run(
        [sys.executable, "-m", "onemind", "secrets", "encrypt"],
        input="x",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "ONEMIND_SECRET_KEY" in done.stderr
