#!/usr/bin/env bash
# Re-fetches the vendored front-end files from the npm registry and rewrites VERSIONS.md.
# Only the files the templates use are kept, each package's licence beside them.
# To upgrade: change a version below, run this script, check the pages, commit.
#   static/vendor/fetch.sh
set -euo pipefail

BOOTSTRAP=5.3.9
BOOTSTRAP_ICONS=1.13.2
HTMX=2.0.11
CHARTJS=4.6.1

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

command -v npm >/dev/null || { echo "fetch.sh: npm is needed (apt-get install npm)" >&2; exit 1; }

versions="$work/VERSIONS.rows"
: >"$versions"

# unpack NAME VERSION: downloads NAME@VERSION with `npm pack` into $work/NAME/package
unpack() {
    local name="$1" version="$2" json tarball integrity licence
    mkdir -p "$work/$name"
    json="$(cd "$work/$name" && npm pack --json --loglevel=error "$name@$version")"
    tarball="$(python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["filename"])' <<<"$json")"
    integrity="$(python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["integrity"])' <<<"$json")"
    tar -xzf "$work/$name/$tarball" -C "$work/$name"
    licence="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["license"])' \
        "$work/$name/package/package.json")"
    echo "| $name | $version | $licence | \`$integrity\` |" >>"$versions"
    echo "fetched $name@$version ($licence)"
}

unpack bootstrap "$BOOTSTRAP"
unpack bootstrap-icons "$BOOTSTRAP_ICONS"
unpack htmx.org "$HTMX"
unpack chart.js "$CHARTJS"

# Replace the vendored folders only once every download succeeded.
rm -rf "$here/bootstrap" "$here/bootstrap-icons" "$here/htmx" "$here/chart.js"
mkdir -p "$here/bootstrap" "$here/bootstrap-icons/fonts" "$here/htmx" "$here/chart.js"

p="$work/bootstrap/package"
cp "$p/dist/css/bootstrap.min.css" "$p/dist/js/bootstrap.bundle.min.js" "$p/LICENSE" \
    "$here/bootstrap/"

# bootstrap-icons.min.css loads its fonts from ./fonts/ relative to itself.
p="$work/bootstrap-icons/package"
cp "$p/font/bootstrap-icons.min.css" "$p/LICENSE" "$here/bootstrap-icons/"
cp "$p/font/fonts/bootstrap-icons.woff2" "$p/font/fonts/bootstrap-icons.woff" \
    "$here/bootstrap-icons/fonts/"

p="$work/htmx.org/package"
cp "$p/dist/htmx.min.js" "$p/LICENSE" "$here/htmx/"

p="$work/chart.js/package"
cp "$p/dist/chart.umd.min.js" "$p/LICENSE.md" "$here/chart.js/"

cat >"$here/VERSIONS.md" <<MD
# Vendored front-end files

Served from \`static/vendor/\`; no CDN at run time. Written by \`static/vendor/fetch.sh\`,
which downloads each package from the npm registry with \`npm pack\` and keeps only the
files below plus the package's licence. Do not edit these files by hand: change a version
in \`fetch.sh\` and run it again.

| package | version | licence | npm integrity |
|---|---|---|---|
$(cat "$versions")

| file (under \`static/vendor/\`) | from the package |
|---|---|
| \`bootstrap/bootstrap.min.css\` | \`dist/css/bootstrap.min.css\` |
| \`bootstrap/bootstrap.bundle.min.js\` | \`dist/js/bootstrap.bundle.min.js\` (includes Popper) |
| \`bootstrap/LICENSE\` | \`LICENSE\` |
| \`bootstrap-icons/bootstrap-icons.min.css\` | \`font/bootstrap-icons.min.css\` |
| \`bootstrap-icons/fonts/bootstrap-icons.woff2\`, \`.woff\` | \`font/fonts/\` |
| \`bootstrap-icons/LICENSE\` | \`LICENSE\` |
| \`htmx/htmx.min.js\` | \`dist/htmx.min.js\` |
| \`htmx/LICENSE\` | \`LICENSE\` |
| \`chart.js/chart.umd.min.js\` | \`dist/chart.umd.min.js\` (UMD build: sets \`window.Chart\`) |
| \`chart.js/LICENSE.md\` | \`LICENSE.md\` |

Source maps are not vendored: the minified Bootstrap and Chart.js files end with a
\`sourceMappingURL\` comment, which browsers only follow with the developer tools open
(a 404 there is harmless). A manifest static-files storage would need the maps.
MD
echo "wrote $here/VERSIONS.md"
