#!/usr/bin/env bash
# Install the Debian packages tlsblame needs to build and test, only when
# something is missing. Runs first for `make demo` and `make check`.
set -euo pipefail

# header or tool -> Debian package
need=()
check() { [ -e "$1" ] || need+=("$2"); }
check /usr/include/pcap/pcap.h libpcap-dev
check /usr/include/ndpi/ndpi_api.h libndpi-dev
check /usr/include/mbedtls/x509_crt.h libmbedtls-dev
check /usr/include/yaml.h libyaml-dev
check /usr/include/zlib.h zlib1g-dev
check /usr/include/cmocka.h libcmocka-dev
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v cc >/dev/null 2>&1 || need+=(gcc)
command -v make >/dev/null 2>&1 || need+=(make)
if [ "${TB_DEPS_TESTS:-1}" = 1 ]; then
    # What the test suites use: a JSON parser, openssl for live/regeneration tests,
    # tshark for the corpus differential suite, tcpdump and ip for live tests.
    command -v jq >/dev/null 2>&1 || need+=(jq)
    command -v openssl >/dev/null 2>&1 || need+=(openssl)
    command -v python3 >/dev/null 2>&1 || need+=(python3)
    command -v tcpdump >/dev/null 2>&1 || need+=(tcpdump)
    command -v ip >/dev/null 2>&1 || need+=(iproute2)
    command -v groff >/dev/null 2>&1 || need+=(groff-base)
    command -v tshark >/dev/null 2>&1 || need+=(tshark)
    command -v ethtool >/dev/null 2>&1 || need+=(ethtool)
    command -v clang >/dev/null 2>&1 || need+=(clang)
fi
[ ${#need[@]} -eq 0 ] && exit 0

echo "tlsblame: installing missing Debian packages: ${need[*]}" >&2
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "tlsblame: cannot install them here (need root and apt-get). Run:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${need[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture: no.
echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections 2>/dev/null || true
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
