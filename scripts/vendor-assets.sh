#!/usr/bin/env bash
# Install the locked front-end packages (npm ci) and copy the browser files the pages load
# into src/onewindow/static/vendor/ (git-ignored). Safe to run repeatedly: npm ci is skipped
# while node_modules still matches package-lock.json, and unchanged files are not rewritten.
#
#   scripts/vendor-assets.sh            install if needed, then copy
#   FORCE=1 scripts/vendor-assets.sh    always run npm ci
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

vendor="src/onewindow/static/vendor"
stamp="node_modules/.onewindow-lock.sha256"

command -v npm >/dev/null 2>&1 || { echo "vendor-assets: npm is required (apt-get install npm)" >&2; exit 1; }
[ -f package-lock.json ] || { echo "vendor-assets: package-lock.json is missing" >&2; exit 1; }

lock_sum="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ "${FORCE:-0}" != "1" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_sum" ]; then
  echo "vendor-assets: node_modules is current"
else
  # --ignore-scripts: the assets are plain files; no package gets to run code at install time.
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > "$stamp"
fi

# source (inside node_modules) -> name under static/vendor
files=(
  "htmx.org/dist/htmx.min.js:htmx.min.js"
  # /docs: Swagger UI served from here, never from a CDN (core/edge.py sets a CSP of 'self' only)
  "swagger-ui-dist/swagger-ui-bundle.js:swagger-ui/swagger-ui-bundle.js"
  "swagger-ui-dist/swagger-ui.css:swagger-ui/swagger-ui.css"
  "echarts/dist/echarts.min.js:echarts.min.js"
)

mkdir -p "$vendor"
for entry in "${files[@]}"; do
  src="node_modules/${entry%%:*}"
  dest="$vendor/${entry##*:}"
  [ -f "$src" ] || { echo "vendor-assets: $src not found; run FORCE=1 $0" >&2; exit 1; }
  mkdir -p "$(dirname "$dest")"
  if ! cmp -s "$src" "$dest"; then
    cp "$src" "$dest"
    echo "vendor-assets: $dest updated"
  fi
done
