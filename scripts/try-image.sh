#!/usr/bin/env bash
# Try the Gradescope zip as Gradescope uses it, on a bare image: build a minimal root of a
# Debian or Ubuntu release with debootstrap, run the zip's own setup.sh inside it (chroot),
# then its own run_autograder against the solution and the untouched student notebook, with
# the root's full capabilities and again without CAP_SYS_ADMIN (Docker's default). Prints
# each score and how long each step took.
#
# Needs root, debootstrap, and the package registries (Debian's or Ubuntu's archive, PyPI).
#
#   scripts/try-image.sh [--suite bookworm|jammy|noble] [--cache DIR] [--keep] [ZIP]
#
# ZIP defaults to assignments/rnn_lab/dist/autograder/gradescope_autograder.zip (run
# `kerasgrade build` first); the two notebooks are taken from the same dist/ folder.
# The bare root of each suite is kept in the cache folder (default /var/tmp/rnnlab-images)
# and copied for every run, so each run starts from an image setup.sh never touched.
set -euo pipefail

suite=bookworm
cache=/var/tmp/rnnlab-images
keep=0
zip=""
while [ $# -gt 0 ]; do
    case "$1" in
        --suite) suite="$2"; shift 2 ;;
        --cache) cache="$2"; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) zip="$1"; shift ;;
    esac
done
project="$(cd "$(dirname "$0")/.." && pwd)"
zip="${zip:-$project/assignments/rnn_lab/dist/autograder/gradescope_autograder.zip}"
dist="$(cd "$(dirname "$zip")/.." && pwd)"
solution="$dist/autograder/rnn_lab.ipynb"
untouched="$dist/student/rnn_lab.ipynb"

fail() { echo "try-image: $*" >&2; exit 2; }
[ "$(id -u)" = 0 ] || fail "needs root (debootstrap, chroot and mounts)."
command -v debootstrap >/dev/null || fail "needs debootstrap (apt-get install debootstrap)."
for file in "$zip" "$solution" "$untouched"; do
    [ -f "$file" ] || fail "no $file: run 'kerasgrade build' first."
done

# The archive and the sources list a stock container image of that release has (Docker's
# ubuntu images enable universe, where Ubuntu 22.04's python3.11 lives).
case "$suite" in
    bookworm)
        mirror=http://deb.debian.org/debian
        script=bookworm
        sources="deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main" ;;
    jammy|noble)
        mirror=http://archive.ubuntu.com/ubuntu
        script=/usr/share/debootstrap/scripts/gutsy  # every Ubuntu release since uses it
        sources="deb $mirror $suite main restricted universe
deb $mirror $suite-updates main restricted universe
deb $mirror $suite-security main restricted universe" ;;
    *) fail "unknown suite $suite (bookworm, jammy or noble)" ;;
esac

seconds() { date +%s; }
elapsed() { echo $(( $(seconds) - $1 )); }
report=()
note() { report+=("$1"); echo "== $1"; }

base="$cache/$suite-base"
mkdir -p "$cache"
if [ ! -f "$base/.complete" ]; then
    started=$(seconds)
    rm -rf "$base"
    keyring=()
    [ "$script" = bookworm ] || keyring=(--no-check-gpg)  # no Ubuntu keyring on a Debian host
    debootstrap --variant=minbase "${keyring[@]}" "$suite" "$base" "$mirror" "$script" \
        > "$cache/$suite-debootstrap.log" 2>&1 || fail "debootstrap failed: $cache/$suite-debootstrap.log"
    touch "$base/.complete"
    note "debootstrap $suite: $(elapsed "$started") s"
fi

root="$(mktemp -d "$cache/$suite-run-XXXX")"
cleanup() {
    umount -R "$root" 2>/dev/null || umount -l "$root" 2>/dev/null || true
    [ "$keep" = 1 ] && echo "root kept in $root" || rm -rf --one-file-system "$root"
}
trap cleanup EXIT
cp -a "$base/." "$root/"
printf '%s\n' "$sources" > "$root/etc/apt/sources.list"
# The package index is reached through this machine's certificate bundle. Installing
# ca-certificates inside the root rewrites the standard bundle, so it gets a name of its own.
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/host-ca-bundle.crt"
printf '[global]\ncert = /etc/host-ca-bundle.crt\n' > "$root/etc/pip.conf"

mkdir -p "$root/autograder/source" "$root/autograder/submission" "$root/autograder/results"
python3 -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])" \
    "$zip" "$root/autograder/source"
chmod +x "$root/autograder/source/setup.sh" "$root/autograder/source/run_autograder" \
    "$root/autograder/source/fetch_data.sh"  # Gradescope does not keep zip modes either

# A container's root is a mount point: bind the root onto itself, then the kernel's files.
mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount -t sysfs sys "$root/sys"
mount --rbind /dev "$root/dev"
cp /etc/resolv.conf "$root/etc/resolv.conf"

# What Gradescope's harness gives its scripts: root, a plain PATH, nothing of this machine's.
clean_env=(/usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
in_root() { chroot "$root" "${clean_env[@]}" "$@"; }

started=$(seconds)
if ! in_root bash /autograder/source/setup.sh > "$root.setup.log" 2>&1; then
    tail -30 "$root.setup.log"
    fail "setup.sh failed on $suite after $(elapsed "$started") s (log: $root.setup.log)"
fi
python_version=$(in_root /autograder/venv/bin/python -c "import platform; print(platform.python_version())")
note "setup.sh on $suite (Python $python_version): succeeded in $(elapsed "$started") s"

grade() {  # grade NAME NOTEBOOK [PREFIX...]: one run_autograder, its score and time
    local name="$1" notebook="$2"
    shift 2
    rm -rf "$root/autograder/submission/"* "$root/autograder/results/"*
    cp "$notebook" "$root/autograder/submission/rnn_lab.ipynb"
    local started
    started=$(seconds)
    "$@" chroot "$root" "${clean_env[@]}" bash /autograder/source/run_autograder > "$root.grade.log" 2>&1 || true
    local took
    took=$(elapsed "$started")
    local lines
    lines=$(python3 - "$root/autograder/results/results.json" "$name" "$took" <<'PY'
import json, sys
path, name, took = sys.argv[1:]
try:
    results = json.load(open(path))
except (OSError, ValueError) as error:
    print(f"{name}: no results.json ({error}) after {took} s")
    sys.exit()
possible = sum(test["max_score"] for test in results["tests"])
print(f"{name}: {results['score']:g}/{possible:g} in {took} s")
isolation = next((t["output"] for t in results["tests"] if t["name"] == "grader (isolation)"), None)
print(f"  {results['output'].splitlines()[0][:160]}")
if isolation:
    print(f"  isolation: {isolation}")
PY
)
    while IFS= read -r line; do note "$line"; done <<< "$lines"
}

grade "solution" "$solution"
grade "untouched notebook" "$untouched"
grade "solution, no CAP_SYS_ADMIN" "$solution" setpriv --bounding-set=-sys_admin
grade "untouched notebook, no CAP_SYS_ADMIN" "$untouched" setpriv --bounding-set=-sys_admin

echo
echo "Summary ($suite, $(date -u +%Y-%m-%d)):"
printf '  %s\n' "${report[@]}"
