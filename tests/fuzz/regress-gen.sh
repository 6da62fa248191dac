#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Writes the binary inputs of the fuzz regression test into DIR/NAME/ (one directory per fuzz
# target): crashers the fuzzers found in binary formats (.deb, compressed tar), rebuilt here
# from a description instead of committed as bytes.
set -euo pipefail
out=${1:?usage: regress-gen.sh DIR}
mkdir -p "$out"/{tar,deb}
