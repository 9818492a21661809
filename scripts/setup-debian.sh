#!/usr/bin/env bash
# Installs, non-interactively, the Debian 12 packages tcplife needs: tshark/dumpcap (demo capture
# and plugin tests), the Wireshark headers and libclang (bindgen), tcptrace (benchmark peer).
# Safe to run again: apt-get skips what is already installed.
set -euo pipefail
pkgs=(tshark libwireshark-dev libwiretap-dev libglib2.0-dev libclang-dev clang pkg-config tcptrace sudo)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
# tshark's package asks whether non-root users may capture; answer ahead so apt never prompts.
echo 'wireshark-common wireshark-common/install-setuid boolean false' | $SUDO debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
