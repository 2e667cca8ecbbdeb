#!/usr/bin/env bash
# Install kubernetes-validate (pinned in deploy/requirements.txt) into a
# virtualenv under target/, where `cargo test`'s deploy tests look for it.
# Needs python3 and PyPI once; the schemas ship inside the package, so the
# check itself runs offline. A no-op when the pinned versions are installed.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/kubernetes-validate
stamp="$venv/.requirements"
if [ -x "$venv/bin/kubernetes-validate" ] && cmp -s deploy/requirements.txt "$stamp"; then
    exit 0
fi
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r deploy/requirements.txt
cp deploy/requirements.txt "$stamp"
"$venv/bin/kubernetes-validate" --version
