#!/usr/bin/env bash
# Rebuild the receipt PDF's font, DejaVu Sans regular and bold, as WOFF2 subsets
# from Debian's fonts-dejavu-core (apt-get install fonts-dejavu-core), with the
# fontTools subsetter (pip install fonttools brotli). Run from anywhere:
#   bash static/fonts/build.sh        (PYTHON=... to use another interpreter)
# Kept: Latin, Cyrillic, punctuation, ₽, №, arrows, math operators and U+FFFD;
# hinting is dropped to save size; the name table keeps the license text.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

PYTHON="${PYTHON:-.venv/bin/python}"
SRC="${DEJAVU_DIR:-/usr/share/fonts/truetype/dejavu}"
OUT=static/fonts

UNICODES=(
    U+0020-007E  # Basic Latin
    U+00A0-00FF  # Latin-1 Supplement
    U+0100-017F  # Latin Extended-A
    U+0400-04FF  # Cyrillic
    U+0500-052F  # Cyrillic Supplement
    U+2000-206F  # General Punctuation
    U+20A0-20CF  # Currency Symbols (₽ U+20BD)
    U+2100-214F  # Letterlike Symbols (№ U+2116)
    U+2190-21FF  # Arrows
    U+2200-22FF  # Mathematical Operators
    U+FFFD       # Replacement character
)

for face in DejaVuSans DejaVuSans-Bold; do
    if [[ ! -f "$SRC/$face.ttf" ]]; then
        echo "build.sh: $SRC/$face.ttf not found; install fonts-dejavu-core" >&2
        exit 1
    fi
    "$PYTHON" -m fontTools.subset "$SRC/$face.ttf" \
        --unicodes="$(IFS=,; echo "${UNICODES[*]}")" \
        --flavor=woff2 \
        --no-hinting \
        --name-IDs='*' \
        --drop-tables+=FFTM \
        --output-file="$OUT/$face.woff2"
done

for face in DejaVuSans DejaVuSans-Bold; do
    printf '%s: %s bytes\n' "$OUT/$face.woff2" "$(wc -c < "$OUT/$face.woff2")"
done
