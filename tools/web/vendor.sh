#!/usr/bin/env bash
# Copies the web app's browser libraries from the npm registry (versions pinned by
# package-lock.json) into crates/tend-web/assets/vendor, licences beside them. The
# copies are committed: building tend never needs npm.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --silent
out=../../crates/tend-web/assets/vendor
mkdir -p "$out"
cp node_modules/htmx.org/dist/htmx.min.js "$out/htmx.min.js"
cp node_modules/htmx.org/LICENSE "$out/htmx.LICENSE"
cp node_modules/uplot/dist/uPlot.iife.min.js "$out/uPlot.iife.min.js"
cp node_modules/uplot/dist/uPlot.min.css "$out/uPlot.min.css"
cp node_modules/uplot/LICENSE "$out/uPlot.LICENSE"
rm -rf node_modules
