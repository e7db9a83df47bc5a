#!/usr/bin/env bash
# Checks the package as it would be published: builds, packs the tarball into a temporary folder
# and runs publint (package.json fields, exports, files) and Are the Types Wrong (types resolve for
# ESM consumers; the package is ESM only, like AdminJS) on that tarball, not on the working tree.
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
npm run build
# --ignore-scripts: the build above is the one packed; a prepack build would only repeat it.
npm pack --ignore-scripts --silent --pack-destination "$out" >/dev/null
tarball="$(ls "$out"/*.tgz)"
contents="$(tar -tzf "$tarball")"
echo "checking $(basename "$tarball"): $(wc -l <<<"$contents") files"
for required in package/lib/index.js package/lib/index.d.ts package/components/dist/components/ResumableEdit.js package/LICENSE; do
  grep -qx "$required" <<<"$contents" || { echo "the tarball lacks $required" >&2; exit 1; }
done
npx publint run --strict "$tarball"
npx attw --profile esm-only "$tarball"
