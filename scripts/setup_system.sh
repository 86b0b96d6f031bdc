#!/usr/bin/env bash
# Installs the system packages riskgraph needs when they are missing (Debian/Ubuntu):
# a JDK 17 and Maven for the local Neo4j, Node.js/npm for the division registry package,
# Chromium and a CJK font for the browser tests. Uses sudo when not root.
set -euo pipefail
need=()
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || need+=(maven)
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
if [ "${RISKGRAPH_SKIP_BROWSER:-0}" != "1" ]; then
  [ -x /usr/bin/chromium ] || need+=(chromium)
  fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need+=(fonts-noto-cjk)
fi
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "setup: installing system packages: ${need[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
