# Sourced by the scripts that drive a live `tend serve`: a work folder and a server
# that are both gone when the script exits, however it exits.
#
#   source tools/live_server.sh
#   live_work                          # sets $work, removed on exit
#   live_serve "$tend" [ARGS…]         # sets $port and $server_pid, waits until ready
#
# A script may set `before_cleanup` to a command run first on exit.

live_cleanup() {
    ${before_cleanup:-true}
    if [ -n "${server_pid:-}" ]; then
        kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}

live_work() {
    work="$(mktemp -d)"
    server_pid=""
    trap live_cleanup EXIT
}

live_serve() {
    local tend="$1"
    shift
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    TEND_LOG="${TEND_LOG:-warn}" "$tend" serve --listen "127.0.0.1:$port" "$@" 2>"$work/serve.log" &
    server_pid=$!
    for _ in $(seq 1 100); do
        python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$port/readyz', timeout=1)" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "tend serve did not become ready; its log:" >&2
    cat "$work/serve.log" >&2
    return 1
}
