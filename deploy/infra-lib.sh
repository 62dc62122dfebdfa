# Sourced by deploy/postgres.sh and deploy/kafka.sh: what both need to run a server on a free local port.
# Sets REPO and PB_INFRA_DIR (absolute; default <repo>/var/infra, created).

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PB_INFRA_DIR=${PB_INFRA_DIR:-$REPO/var/infra}
mkdir -p "$PB_INFRA_DIR"
PB_INFRA_DIR=$(cd "$PB_INFRA_DIR" && pwd)

# Prints a port the kernel has just handed out as free on 127.0.0.1.
free_port() {
    python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# 0 if nothing listens on 127.0.0.1:$1 (TIME_WAIT leftovers are fine).
port_free() {
    python3 - "$1" <<'PY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
PY
}

# write_env_file FILE LINE: replaces FILE with LINE at once, so a reader never sees half a file.
write_env_file() {
    local tmp
    tmp=$(mktemp "$(dirname "$1")/.$(basename "$1").XXXXXX")
    echo "$2" >"$tmp"
    mv -f "$tmp" "$1"
}
