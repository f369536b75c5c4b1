#!/bin/sh
# Re-vendor the front-end assets listed in README.md from npm (run from anywhere; needs npm).
# Installs into a temporary directory and copies only the dist files; node_modules never
# enters the repository. Bump a version here and in README.md together.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
STATIC=$(dirname "$HERE")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
npm init -y >/dev/null
npm install --no-audit --no-fund --silent \
  bootstrap@5.3.9 htmx.org@2.0.11 vazirmatn@33.0.3 chart.js@4.6.1 sortablejs@1.15.7 \
  @majidh1/jalalidatepicker@0.9.12 bootstrap-icons@1.13.2
N=node_modules
V="$HERE"
mkdir -p "$V/bootstrap" "$V/htmx" "$V/vazirmatn" "$V/chartjs" "$V/sortablejs" \
  "$V/jalalidatepicker" "$V/bootstrap-icons/fonts" "$STATIC/fonts"
cp $N/bootstrap/dist/css/bootstrap.min.css $N/bootstrap/dist/css/bootstrap.rtl.min.css \
  $N/bootstrap/dist/js/bootstrap.bundle.min.js $N/bootstrap/LICENSE "$V/bootstrap/"
cp $N/htmx.org/dist/htmx.min.js $N/htmx.org/LICENSE "$V/htmx/"
cp "$N/vazirmatn/fonts/webfonts/Vazirmatn[wght].woff2" "$V/vazirmatn/Vazirmatn-Variable.woff2"
cp $N/vazirmatn/OFL.txt $N/vazirmatn/AUTHORS.txt "$V/vazirmatn/"
cp $N/vazirmatn/fonts/ttf/Vazirmatn-Regular.ttf $N/vazirmatn/fonts/ttf/Vazirmatn-Medium.ttf \
  $N/vazirmatn/fonts/ttf/Vazirmatn-Bold.ttf $N/vazirmatn/OFL.txt "$STATIC/fonts/"
cp $N/chart.js/dist/chart.umd.min.js $N/chart.js/LICENSE.md "$V/chartjs/"
cp $N/sortablejs/Sortable.min.js $N/sortablejs/LICENSE "$V/sortablejs/"
cp $N/@majidh1/jalalidatepicker/dist/jalalidatepicker.min.js \
  $N/@majidh1/jalalidatepicker/dist/jalalidatepicker.min.css \
  $N/@majidh1/jalalidatepicker/LICENSE "$V/jalalidatepicker/"
cp $N/bootstrap-icons/font/fonts/bootstrap-icons.woff2 "$V/bootstrap-icons/fonts/"
cp $N/bootstrap-icons/LICENSE "$V/bootstrap-icons/"
sed -e 's#src:url("fonts/bootstrap-icons.woff2?[0-9a-f]*") format("woff2"),url("fonts/bootstrap-icons.woff?[0-9a-f]*") format("woff")#src:url("fonts/bootstrap-icons.woff2") format("woff2")#' \
  $N/bootstrap-icons/font/bootstrap-icons.min.css > "$V/bootstrap-icons/bootstrap-icons.min.css"
for f in "$V/bootstrap/bootstrap.min.css" "$V/bootstrap/bootstrap.rtl.min.css" \
         "$V/bootstrap/bootstrap.bundle.min.js" "$V/chartjs/chart.umd.min.js"; do
  sed -i -e '/sourceMappingURL=/d' "$f"
done
echo "vendored into $V"
