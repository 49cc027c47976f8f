#!/usr/bin/env bash
# Installs the system packages d2r needs on a fresh Debian (bookworm) machine:
# libtorch (the engine), the Gloo headers (its c10d collectives), OpenBLAS (fast matrix products for libtorch), PyTorch
# (the oracle in tests and the competitor in benchmarks), Fashion-MNIST (the
# embedded default data), Chromium (the report's browser test) and the DejaVu
# fonts (text in the report's PNG charts).
# Safe to run again: it installs only what is missing.
set -euo pipefail

packages=(libtorch-dev libgloo-dev libopenblas0-pthread python3-torch dataset-fashion-mnist chromium fonts-dejavu-core)
[ "${D2R_SKIP_CHROMIUM:-0}" = 1 ] && packages=("${packages[@]/chromium}")

missing=()
for p in "${packages[@]}"; do
  [ -z "$p" ] && continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-system: all system packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "setup-system: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup-system: done"
