#!/usr/bin/env bash
# Renders voice prompts: prompts/<lang>/prompts.txt ("name|text" lines, "# voice: <espeak
# voice>") → prompts/<lang>/<name>.wav, 8 kHz mono 16-bit PCM, the format hotdesk-media
# loads. Another language is another folder with its own prompts.txt.
#
# Usage: prompts/generate.sh [lang ...]      (default: every folder with a prompts.txt)
# Needs: espeak-ng and sox (apt-get install -y espeak-ng sox).
# Output is deterministic (no dither), so regenerating leaves git clean.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
command -v espeak-ng >/dev/null || { echo "espeak-ng missing: apt-get install -y espeak-ng" >&2; exit 1; }
command -v sox >/dev/null || { echo "sox missing: apt-get install -y sox" >&2; exit 1; }

langs=("$@")
if [ ${#langs[@]} -eq 0 ]; then
    for f in "$here"/*/prompts.txt; do langs+=("$(basename "$(dirname "$f")")"); done
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

for lang in "${langs[@]}"; do
    list="$here/$lang/prompts.txt"
    voice="$(sed -n 's/^# voice: *//p' "$list" | head -n1)"
    voice="${voice:-$lang}"
    count=0
    while IFS='|' read -r name text; do
        case "$name" in ''|'#'*) continue ;; esac
        espeak-ng -v "$voice" -s 150 -w "$tmp/raw.wav" "$text"
        # Resample to 8 kHz, trim leading/trailing silence, normalise to -3 dBFS, 60 ms tail
        # so consecutive prompts (digits) do not run together.
        sox -D "$tmp/raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "$here/$lang/$name.wav" \
            silence 1 0.01 0.3% reverse silence 1 0.01 0.3% reverse norm -3 pad 0 0.06
        count=$((count + 1))
    done < "$list"
    echo "$lang: $count prompts"
done
