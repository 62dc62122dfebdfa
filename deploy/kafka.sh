#!/usr/bin/env bash
# Provision and run a real single-node Apache Kafka broker (KRaft, combined
# broker+controller) on free local ports, for the test suite.
#
#   deploy/kafka.sh start   fetch jars if needed, format, start, wait until ready,
#                           write $PB_INFRA_DIR/kafka.env (PB_TEST_KAFKA_BOOTSTRAP=...)
#   deploy/kafka.sh stop    SIGTERM, wait up to 30 s, then SIGKILL; data and ports are kept
#   deploy/kafka.sh status  exit 0 if running
#   deploy/kafka.sh env     print kafka.env
#   deploy/kafka.sh fetch   only fetch the jars into the cache
#
# A start after a stop reuses the same data dir and the SAME ports (stored in
# $PB_INFRA_DIR/kafka/ports.env), so a test can stop/start the broker to
# simulate an outage and clients reconnect to the same bootstrap address.
#
# Env: PB_INFRA_DIR (default <repo>/var/infra), PB_CACHE_DIR (default
# ~/.cache/patentbridge), PB_KAFKA_START_TIMEOUT (default 90 s),
# PB_KAFKA_HEAP (default 1g), PB_KAFKA_CONTROLLED_SHUTDOWN (default true).
set -euo pipefail

KAFKA_VERSION=4.3.1
LOG4J_VERSION=2.25.2
DEP_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1
# Fixed cluster id for tests (22-char base64url UUID, as `StorageTool random-uuid` prints).
CLUSTER_ID=UGF0ZW50QnJpZGdlVGVzdA

SELF=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
# shellcheck source=deploy/infra-lib.sh
source "$(dirname "$SELF")/infra-lib.sh"
CACHE=${PB_CACHE_DIR:-${HOME:-/root}/.cache/patentbridge}/kafka-$KAFKA_VERSION
LIBS=$CACHE/libs
KDIR=$PB_INFRA_DIR/kafka
DATA=$KDIR/data
PROPS=$KDIR/server.properties
LOG4J=$KDIR/log4j2.properties
PORTS=$KDIR/ports.env
PIDFILE=$KDIR/kafka.pid
LOGFILE=$KDIR/kafka.log
ENVFILE=$PB_INFRA_DIR/kafka.env
TIMEOUT=${PB_KAFKA_START_TIMEOUT:-90}
HEAP=${PB_KAFKA_HEAP:-1g}

log() { echo "[kafka] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

apt_install() {
    log "installing $* with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq "$@" >&2
}

ensure_tools() {
    command -v java >/dev/null || apt_install openjdk-17-jre-headless
    command -v python3 >/dev/null || apt_install python3
}

jars_present() {
    [[ -f $LIBS/.complete && -f $LIBS/kafka_2.13-$KAFKA_VERSION.jar ]] \
        && compgen -G "$LIBS/log4j-core-*.jar" >/dev/null \
        && compgen -G "$LIBS/log4j-slf4j*-impl-*.jar" >/dev/null
}

fetch_jars() {
    jars_present && return 0
    mkdir -p "$CACHE"
    exec 8>"$CACHE/.fetch.lock"
    flock 8
    if jars_present; then exec 8>&-; return 0; fi
    command -v mvn >/dev/null || apt_install maven
    command -v java >/dev/null || apt_install openjdk-17-jre-headless
    cat >"$CACHE/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<project>
  <modelVersion>4.0.0</modelVersion>
  <groupId>patentbridge.test</groupId>
  <artifactId>kafka-broker-libs</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>$LOG4J_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-core</artifactId>
      <version>$LOG4J_VERSION</version>
    </dependency>
  </dependencies>
</project>
EOF
    log "fetching kafka_2.13:$KAFKA_VERSION jars with Maven into $LIBS (first run only)"
    local t0=$SECONDS tmp=$CACHE/libs.tmp
    rm -rf "$tmp"
    if ! mvn -B -q -f "$CACHE/pom.xml" "$DEP_PLUGIN:copy-dependencies" \
            -DincludeScope=runtime -DoutputDirectory="$tmp" >"$CACHE/mvn.log" 2>&1; then
        tail -n 40 "$CACHE/mvn.log" >&2
        die "maven fetch failed (full log: $CACHE/mvn.log)"
    fi
    rm -rf "$LIBS"
    mv "$tmp" "$LIBS"
    touch "$LIBS/.complete"
    log "fetched $(ls "$LIBS" | wc -l) jars in $((SECONDS - t0)) s"
    exec 8>&-
}

# Prints the number of brokers in a Metadata response from 127.0.0.1:$1 (stdlib
# only, so this script doesn't depend on the project's venv). Exit 1 if unreachable.
metadata_check() {
    python3 - "$1" <<'EOF'
import socket, struct, sys

def call(sock, key, ver, body, corr):
    cid = b"pb-infra-check"
    hdr = struct.pack(">hhih", key, ver, corr, len(cid)) + cid
    msg = hdr + body
    sock.sendall(struct.pack(">i", len(msg)) + msg)
    def recv(n):
        buf = b""
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            if not chunk:
                raise OSError("connection closed")
            buf += chunk
        return buf
    (size,) = struct.unpack(">i", recv(4))
    data = recv(size)
    (got,) = struct.unpack(">i", data[:4])
    assert got == corr, "bad correlation id"
    return data[4:]

try:
    with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5) as s:
        s.settimeout(5)
        # ApiVersions v0: error int16, [api_key int16, min int16, max int16]
        r = call(s, 18, 0, b"", 1)
        err, n = struct.unpack(">hi", r[:6])
        if err:
            sys.exit(1)
        versions = {}
        for i in range(n):
            k, lo, hi = struct.unpack(">hhh", r[6 + 6 * i: 12 + 6 * i])
            versions[k] = (lo, hi)
        lo, hi = versions[3]
        ver = max(lo, 4)
        if ver > min(hi, 8):
            print(1)  # only flexible Metadata versions: ApiVersions answering is enough
            sys.exit(0)
        # Metadata v4..v8 request: topics = [] (none), allow_auto_topic_creation = false
        body = struct.pack(">i", 0) + b"\x00"
        if ver >= 8:
            body += b"\x00\x00"  # include_cluster/topic_authorized_operations
        r = call(s, 3, ver, body, 2)
        (nb,) = struct.unpack(">i", r[4:8])  # after throttle_time_ms
        print(nb)
except Exception:
    sys.exit(1)
EOF
}

is_running() {
    [[ -f $PIDFILE ]] || return 1
    local pid
    pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$pid/cmdline ]] || return 1
    [[ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" == *"kafka.Kafka $PROPS"* ]] || return 1
    echo "$pid"
}

write_config() {
    local port=$1 cport=$2
    mkdir -p "$DATA"
    cat >"$PROPS" <<EOF
# Generated by deploy/kafka.sh
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
# As in production: topics are made by the services (ensure_topics: contract names, unlimited retention),
# never by a client's first use, which would give them the broker's defaults.
auto.create.topics.enable=false
# true on purpose (KAFKA.md says false): measured here, stop takes ~2 s either way, but
# after an uncontrolled stop the old registration stays live until its session expires
# (broker.session.timeout.ms, 9 s) and the restarted broker waits that long on
# DUPLICATE_BROKER_REGISTRATION; after a controlled stop it registers at once.
controlled.shutdown.enable=${PB_KAFKA_CONTROLLED_SHUTDOWN:-true}
log.retention.ms=-1
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
EOF
    cat >"$LOG4J" <<'EOF'
# Generated by deploy/kafka.sh: console only (stdout goes to kafka.log)
status = warn
name = pb-kafka
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRefs = stdout
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.zk.name = org.apache.kafka
logger.zk.level = INFO
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.controller.name = org.apache.kafka.controller
logger.controller.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
EOF
}

write_env() { local port=$1; write_env_file "$ENVFILE" "PB_TEST_KAFKA_BOOTSTRAP=127.0.0.1:$port"; }

cmd_start() {
    ensure_tools
    fetch_jars
    mkdir -p "$KDIR"
    exec 9>"$KDIR/.lock"
    flock 9

    local PB_KAFKA_PORT="" PB_KAFKA_CONTROLLER_PORT="" pid
    if [[ -f $PORTS ]]; then
        # shellcheck disable=SC1090
        . "$PORTS"
    fi
    if pid=$(is_running); then
        [[ -n $PB_KAFKA_PORT ]] || die "broker runs (pid $pid) but $PORTS is missing"
        write_env "$PB_KAFKA_PORT"
        log "already running (pid $pid) on 127.0.0.1:$PB_KAFKA_PORT"
        return 0
    fi
    rm -f "$PIDFILE"
    if [[ -z $PB_KAFKA_PORT || -z $PB_KAFKA_CONTROLLER_PORT ]]; then
        PB_KAFKA_PORT=$(free_port)
        PB_KAFKA_CONTROLLER_PORT=$(free_port)
        while [[ $PB_KAFKA_CONTROLLER_PORT == "$PB_KAFKA_PORT" ]]; do
            PB_KAFKA_CONTROLLER_PORT=$(free_port)
        done
        printf 'PB_KAFKA_PORT=%s\nPB_KAFKA_CONTROLLER_PORT=%s\n' \
            "$PB_KAFKA_PORT" "$PB_KAFKA_CONTROLLER_PORT" >"$PORTS"
    fi
    # A restart must come back on the same ports: wait a little if a previous
    # process is still releasing them, fail if someone else holds them.
    local p i
    for p in "$PB_KAFKA_PORT" "$PB_KAFKA_CONTROLLER_PORT"; do
        for ((i = 0; i < 20; i++)); do port_free "$p" && break; sleep 0.5; done
        port_free "$p" || die "port $p (stored in $PORTS) is in use by another process"
    done
    write_config "$PB_KAFKA_PORT" "$PB_KAFKA_CONTROLLER_PORT"

    local cp="$LIBS/*"
    if [[ ! -f $DATA/meta.properties ]]; then
        log "formatting $DATA (cluster id $CLUSTER_ID)"
        if ! java -Dlog4j2.configurationFile="$LOG4J" -cp "$cp" kafka.tools.StorageTool \
                format --cluster-id="$CLUSTER_ID" -c "$PROPS" -g >"$KDIR/format.log" 2>&1; then
            cat "$KDIR/format.log" >&2
            die "kafka storage format failed"
        fi
    fi

    log "starting broker on 127.0.0.1:$PB_KAFKA_PORT (controller $PB_KAFKA_CONTROLLER_PORT), log $LOGFILE"
    echo "===== start $(date -Is) =====" >>"$LOGFILE"
    local startline
    startline=$(wc -l <"$LOGFILE")
    # setsid + nohup + no inherited fds: the broker outlives this script and never
    # holds a caller's pipes open (subprocess.run(capture_output=True) returns).
    setsid nohup java -Xms256m -Xmx"$HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
        -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$LOG4J" \
        -cp "$cp" kafka.Kafka "$PROPS" </dev/null >>"$LOGFILE" 2>&1 9>&- 8>&- &
    pid=$!
    echo "$pid" >"$PIDFILE"

    local t0=$SECONDS started=0 n
    while ((SECONDS - t0 < TIMEOUT)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 60 "$LOGFILE" >&2
            rm -f "$PIDFILE"
            die "broker exited during startup (log $LOGFILE)"
        fi
        # awk reads to the end: `tail | grep -q` would die of SIGPIPE under pipefail once the log is long.
        if ((!started)) && awk -v from="$startline" 'NR > from && /Kafka Server started/ { found = 1 } END { exit !found }' "$LOGFILE"; then
            started=1
        fi
        if ((started)) && n=$(metadata_check "$PB_KAFKA_PORT") && ((n >= 1)); then
            write_env "$PB_KAFKA_PORT"
            log "ready in $((SECONDS - t0)) s: PB_TEST_KAFKA_BOOTSTRAP=127.0.0.1:$PB_KAFKA_PORT"
            return 0
        fi
        sleep 0.5
    done
    tail -n 60 "$LOGFILE" >&2
    log "broker not ready after $TIMEOUT s; stopping it"
    stop_pid "$pid"
    rm -f "$PIDFILE"
    die "kafka start timed out (log $LOGFILE)"
}

stop_pid() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 300; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    log "broker (pid $pid) did not stop within 30 s; SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    die "broker (pid $pid) survived SIGKILL"
}

cmd_stop() {
    [[ -d $KDIR ]] || { log "not running"; return 0; }
    exec 9>"$KDIR/.lock"
    flock 9
    local pid
    if pid=$(is_running); then
        log "stopping broker (pid $pid)"
        stop_pid "$pid"
        log "stopped"
    else
        log "not running"
    fi
    rm -f "$PIDFILE"
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) if pid=$(is_running); then echo "running (pid $pid)"; else echo "stopped"; exit 1; fi ;;
    env) cat "$ENVFILE" ;;
    fetch) ensure_tools; fetch_jars ;;
    *) echo "usage: $0 start|stop|status|env|fetch" >&2; exit 2 ;;
esac
