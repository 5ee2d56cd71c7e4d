# shellcheck shell=bash
# Cleanups that run when the script exits, newest first, however it exits. Scripts and the
# libraries they source register here instead of each setting (and overwriting) an EXIT trap.
#
#   source scripts/lib/on-exit.sh; on_exit 'kill "$server"'

# Sourcing this file twice must not forget what was registered.
[ -n "${ON_EXIT_COMMANDS+set}" ] || ON_EXIT_COMMANDS=()

on_exit() {
    ON_EXIT_COMMANDS+=("$1")
    trap run_on_exit EXIT
}

run_on_exit() {
    local i
    for ((i = ${#ON_EXIT_COMMANDS[@]} - 1; i >= 0; i--)); do
        eval "${ON_EXIT_COMMANDS[i]}" || true
    done
}
