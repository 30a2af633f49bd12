#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what ubridge needs to build and test, from Debian's packages.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "deps.sh: run as root (it installs packages with apt-get)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends \
  build-essential clang libclang-rt-14-dev cmake pkg-config \
  liburing-dev libmnl-dev libpcap-dev libcmocka-dev libjson-c-dev \
  iproute2 iputils-ping ethtool socat tcpdump tshark iperf3 procps \
  python3 coreutils jq nftables libnftables-dev valgrind \
  podman runc containernetworking-plugins busybox-static
