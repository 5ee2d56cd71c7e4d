# shellcheck shell=bash
# Python tools from PyPI, each set in a virtualenv of its own holding exactly its pins.
#
#   source scripts/lib/python-tools.sh; python_venv DIR PACKAGE==VERSION...
#
# Made once: a stamp of the pins marks a finished install, so a changed pin rebuilds it.

python_venv() {
    local dir=$1 stamp
    shift
    stamp=$dir/.httpmon-$(printf '%s\n' "$@" | sha256sum | cut -c1-16)
    [ -f "$stamp" ] && return 0
    echo "python-tools: installing $* into $dir (PyPI)" >&2
    rm -rf "$dir"
    python3 -m venv "$dir"
    "$dir/bin/pip" install -q --disable-pip-version-check "$@"
    touch "$stamp"
}
