#!/usr/bin/env bash
# Regenerates completions/ from raftctl's command definitions (swift-argument-parser), so the scripts never drift
# from the code. DocsTests fails when the committed files differ from what this script would write.
#
# Usage: scripts/update-completions.sh [path/to/raftctl]   (default: builds and uses .build/debug/raftctl)
set -euo pipefail
cd "$(dirname "$0")/.."

raftctl="${1:-}"
if [ -z "$raftctl" ]; then
    swift build --product raftctl >/dev/null
    raftctl="$(swift build --show-bin-path)/raftctl"
fi

mkdir -p completions
"$raftctl" --generate-completion-script bash >completions/raftctl.bash
"$raftctl" --generate-completion-script zsh >completions/_raftctl
"$raftctl" --generate-completion-script fish >completions/raftctl.fish
echo "wrote completions/raftctl.bash completions/_raftctl completions/raftctl.fish"
