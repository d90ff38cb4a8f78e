# Port helpers for the benchmark scripts (sourced by bench/load.sh and bench/floor.sh).

# Prints a free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits (at most 60 s) until 127.0.0.1:$1 accepts connections; fails naming $2 otherwise.
wait_port() {
  python3 - "$1" "${2:-port $1}" <<'PY'
import socket, sys, time
deadline = time.time() + 60
while time.time() < deadline:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit("bench: %s did not start within 60 s" % sys.argv[2])
PY
}
