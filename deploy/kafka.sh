#!/usr/bin/env bash
# Provision and run a real Apache Kafka in KRaft mode on free local ports: a single node (combined
# broker+controller; the default, for the test suite), or, with PB_KAFKA_BROKERS=3, a cluster of three such
# nodes (each a broker and a controller voter) for fault tests and `make run-kafka CLUSTER=3`.
#
#   deploy/kafka.sh start     fetch jars if needed, format, start every node not running, wait until the
#                             cluster answers with all its brokers, write $PB_INFRA_DIR/kafka.env
#   deploy/kafka.sh stop      SIGTERM every node, wait up to 30 s, then SIGKILL; data and ports are kept
#   deploy/kafka.sh kill N    kill -9 node N (1..PB_KAFKA_BROKERS), for fault tests; `start` brings it back
#   deploy/kafka.sh status    exit 0 if every node runs
#   deploy/kafka.sh env       print kafka.env
#   deploy/kafka.sh fetch     only fetch the jars into the cache
#
# kafka.env holds PB_TEST_KAFKA_BOOTSTRAP (host:port, comma-separated for a cluster), PB_TEST_KAFKA_BROKERS,
# and the topic settings that fit: PB_TEST_KAFKA_REPLICATION_FACTOR (1, or 3 on the cluster) and
# PB_TEST_KAFKA_MIN_INSYNC_REPLICAS (1, or 2 on the cluster: with acks=all a write is acknowledged once two of
# the three brokers have it, so one broker may die without losing or refusing an acknowledged write).
#
# A start after a stop reuses the same data dirs and the SAME ports (stored in
# $PB_INFRA_DIR/kafka/ports.env, or kafka/nodeN/ports.env on a cluster), so a test can stop/start a broker
# to simulate an outage and clients reconnect to the same bootstrap address. The number of nodes of an infra
# directory is fixed at its first start (kafka/brokers); use another PB_INFRA_DIR for another size.
#
# Env: PB_INFRA_DIR (default <repo>/var/infra), PB_CACHE_DIR (default ~/.cache/patentbridge),
# PB_KAFKA_BROKERS (1, the default, or 3), PB_KAFKA_START_TIMEOUT (default 90 s),
# PB_KAFKA_HEAP (default 1g; 512m per node on a cluster), PB_KAFKA_CONTROLLED_SHUTDOWN (default true).
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
LOG4J=$KDIR/log4j2.properties
ENVFILE=$PB_INFRA_DIR/kafka.env
TIMEOUT=${PB_KAFKA_START_TIMEOUT:-90}
NODES=${PB_KAFKA_BROKERS:-1}
[[ $NODES == 1 || $NODES == 3 ]] || { echo "[kafka] ERROR: PB_KAFKA_BROKERS must be 1 or 3, not '$NODES'" >&2; exit 2; }
if ((NODES == 1)); then HEAP=${PB_KAFKA_HEAP:-1g}; else HEAP=${PB_KAFKA_HEAP:-512m}; fi

# Node N's files: the single node keeps the layout of kafka/ itself; a cluster's nodes have kafka/nodeN/.
node_dir() { if ((NODES == 1)); then echo "$KDIR"; else echo "$KDIR/node$1"; fi; }
props_of() { echo "$(node_dir "$1")/server.properties"; }
pidfile_of() { echo "$(node_dir "$1")/kafka.pid"; }
logfile_of() { echo "$(node_dir "$1")/kafka.log"; }
ports_of() { echo "$(node_dir "$1")/ports.env"; }
data_of() { echo "$(node_dir "$1")/data"; }

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

# Prints the pid of node $1 if it runs.
is_running() {
    local pidfile pid
    pidfile=$(pidfile_of "$1")
    [[ -f $pidfile ]] || return 1
    pid=$(cat "$pidfile" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$pid/cmdline ]] || return 1
    [[ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" == *"kafka.Kafka $(props_of "$1")"* ]] || return 1
    echo "$pid"
}

# Sets PORT[i] and CPORT[i] for every node: stored ones, else fresh free ports (all distinct).
load_ports() {
    local i file used=" "
    for ((i = 1; i <= NODES; i++)); do
        file=$(ports_of "$i")
        local PB_KAFKA_PORT="" PB_KAFKA_CONTROLLER_PORT=""
        # shellcheck disable=SC1090
        [[ -f $file ]] && . "$file"
        PORT[i]=$PB_KAFKA_PORT
        CPORT[i]=$PB_KAFKA_CONTROLLER_PORT
        used+="${PORT[i]} ${CPORT[i]} "
    done
    for ((i = 1; i <= NODES; i++)); do
        [[ -n ${PORT[i]} && -n ${CPORT[i]} ]] && continue
        local p
        for p in PORT CPORT; do
            local v
            v=$(free_port)
            while [[ $used == *" $v "* ]]; do v=$(free_port); done
            used+="$v "
            eval "$p[i]=$v"
        done
        mkdir -p "$(node_dir "$i")"
        printf 'PB_KAFKA_PORT=%s\nPB_KAFKA_CONTROLLER_PORT=%s\n' "${PORT[i]}" "${CPORT[i]}" >"$(ports_of "$i")"
    done
}

bootstrap_list() {
    local i out=""
    for ((i = 1; i <= NODES; i++)); do out+="${out:+,}127.0.0.1:${PORT[i]}"; done
    echo "$out"
}

write_config() {
    local i=$1 voters="" j rf=1 isr=1
    for ((j = 1; j <= NODES; j++)); do voters+="${voters:+,}$j@127.0.0.1:${CPORT[j]}"; done
    ((NODES > 1)) && rf=3 isr=2
    mkdir -p "$(data_of "$i")"
    cat >"$(props_of "$i")" <<EOF
# Generated by deploy/kafka.sh (node $i of $NODES)
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:${PORT[i]},CONTROLLER://127.0.0.1:${CPORT[i]}
advertised.listeners=PLAINTEXT://127.0.0.1:${PORT[i]}
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$(data_of "$i")
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
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
# New topics (the services make theirs with PB_KAFKA_TOPIC_PARTITIONS, 6 by default): see docs/OPERATIONS.md
# on why a live topic's partition count is not changed.
num.partitions=6
# On the cluster every partition has 3 replicas and a write with acks=all needs 2 of them in sync.
default.replication.factor=$rf
min.insync.replicas=$isr
unclean.leader.election.enable=false
EOF
    if ((NODES > 1)); then
        # A broker killed outright is fenced when its heartbeats stop for broker.session.timeout.ms (9 s by
        # default), and only then leaves the ISR of its partitions: until then a write with acks=all waits for
        # it. 4 s keeps that wait within a producer's delivery timeout (15 s, pbkit.bus.kafka) with room to spare.
        cat >>"$(props_of "$i")" <<EOF
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=4000
replica.lag.time.max.ms=10000
EOF
    fi
}

write_log4j() {
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

write_env() {
    local rf=1 isr=1
    ((NODES > 1)) && rf=3 isr=2
    write_env_file "$ENVFILE" "PB_TEST_KAFKA_BOOTSTRAP=$(bootstrap_list)
PB_TEST_KAFKA_BROKERS=$NODES
PB_TEST_KAFKA_REPLICATION_FACTOR=$rf
PB_TEST_KAFKA_MIN_INSYNC_REPLICAS=$isr"
}

# The number of nodes of this infra directory is fixed at its first start.
check_size() {
    local recorded=$NODES
    if [[ -f $KDIR/brokers ]]; then recorded=$(cat "$KDIR/brokers")
    elif [[ -d $KDIR/node1 ]]; then recorded=3
    elif [[ -d $KDIR/data ]]; then recorded=1
    fi
    ((recorded == NODES)) || die "$KDIR holds a $recorded-node Kafka, not $NODES (PB_KAFKA_BROKERS): use another PB_INFRA_DIR"
    echo "$NODES" >"$KDIR/brokers"
}

# Launches node $1 in the background, its pid in its pid file; prints the log line it started at.
launch() {
    local i=$1 logfile pid
    logfile=$(logfile_of "$i")
    echo "===== start $(date -Is) =====" >>"$logfile"
    wc -l <"$logfile"
    # setsid + nohup + no inherited fds: the broker outlives this script and never
    # holds a caller's pipes open (subprocess.run(capture_output=True) returns).
    setsid nohup java -Xms256m -Xmx"$HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
        -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$LOG4J" \
        -cp "$LIBS/*" kafka.Kafka "$(props_of "$i")" </dev/null >>"$logfile" 2>&1 9>&- 8>&- &
    pid=$!
    echo "$pid" >"$(pidfile_of "$i")"
}

cmd_start() {
    ensure_tools
    fetch_jars
    mkdir -p "$KDIR"
    exec 9>"$KDIR/.lock"
    flock 9
    check_size
    declare -ga PORT CPORT
    load_ports

    local i pid todo=()
    for ((i = 1; i <= NODES; i++)); do
        if pid=$(is_running "$i"); then
            log "node $i already running (pid $pid) on 127.0.0.1:${PORT[i]}"
        else
            rm -f "$(pidfile_of "$i")"
            todo+=("$i")
        fi
    done
    if ((${#todo[@]} == 0)); then
        write_env
        return 0
    fi
    # A restart must come back on the same ports: wait a little if a previous
    # process is still releasing them, fail if someone else holds them.
    local p k
    for i in "${todo[@]}"; do
        for p in "${PORT[i]}" "${CPORT[i]}"; do
            for ((k = 0; k < 20; k++)); do port_free "$p" && break; sleep 0.5; done
            port_free "$p" || die "port $p (stored in $(ports_of "$i")) is in use by another process"
        done
    done
    write_log4j
    for ((i = 1; i <= NODES; i++)); do write_config "$i"; done
    local formats=()
    for i in "${todo[@]}"; do
        if [[ ! -f $(data_of "$i")/meta.properties ]]; then
            log "formatting node $i, $(data_of "$i") (cluster id $CLUSTER_ID)"
            java -Dlog4j2.configurationFile="$LOG4J" -cp "$LIBS/*" kafka.tools.StorageTool \
                format --cluster-id="$CLUSTER_ID" -c "$(props_of "$i")" -g >"$(node_dir "$i")/format.log" 2>&1 9>&- &
            formats+=("$i:$!")
        fi
    done
    local f
    for f in "${formats[@]}"; do
        if ! wait "${f#*:}"; then
            cat "$(node_dir "${f%%:*}")/format.log" >&2
            die "kafka storage format failed (node ${f%%:*})"
        fi
    done
    # All together: a cluster node cannot finish starting until a majority of the voters is up.
    declare -A from
    for i in "${todo[@]}"; do
        log "starting node $i on 127.0.0.1:${PORT[i]} (controller ${CPORT[i]}), log $(logfile_of "$i")"
        from[$i]=$(launch "$i")
    done

    local t0=$SECONDS n waiting
    while ((SECONDS - t0 < TIMEOUT)); do
        waiting=0
        for i in "${todo[@]}"; do
            pid=$(cat "$(pidfile_of "$i")")
            if ! kill -0 "$pid" 2>/dev/null; then
                tail -n 60 "$(logfile_of "$i")" >&2
                rm -f "$(pidfile_of "$i")"
                die "node $i exited during startup (log $(logfile_of "$i"))"
            fi
            # awk reads to the end: `tail | grep -q` would die of SIGPIPE under pipefail once the log is long.
            awk -v from="${from[$i]}" 'NR > from && /Kafka Server started/ { found = 1 } END { exit !found }' \
                "$(logfile_of "$i")" || waiting=1
        done
        if ((!waiting)) && n=$(metadata_check "${PORT[${todo[0]}]}") && ((n >= NODES)); then
            write_env
            log "ready in $((SECONDS - t0)) s: PB_TEST_KAFKA_BOOTSTRAP=$(bootstrap_list)"
            return 0
        fi
        sleep 0.5
    done
    for i in "${todo[@]}"; do tail -n 30 "$(logfile_of "$i")" >&2; done
    log "not ready after $TIMEOUT s; stopping what started"
    for i in "${todo[@]}"; do stop_pid "$(cat "$(pidfile_of "$i")")"; rm -f "$(pidfile_of "$i")"; done
    die "kafka start timed out"
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
    local i pid pids=() any=0
    for ((i = 1; i <= NODES; i++)); do
        if pid=$(is_running "$i"); then
            log "stopping node $i (pid $pid)"
            stop_pid "$pid" &
            pids+=($!)
            any=1
        fi
    done
    local rc=0
    for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
    for ((i = 1; i <= NODES; i++)); do rm -f "$(pidfile_of "$i")"; done
    if ((any)); then log "stopped"; else log "not running"; fi
    return "$rc"
}

cmd_kill() {
    local i=${1:-} pid
    [[ $i =~ ^[0-9]+$ ]] && ((i >= 1 && i <= NODES)) || die "kill needs a node number 1..$NODES"
    pid=$(is_running "$i") || die "node $i is not running"
    kill -KILL "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    log "killed node $i (pid $pid) with SIGKILL"
}

cmd_status() {
    local i pid rc=0
    for ((i = 1; i <= NODES; i++)); do
        if pid=$(is_running "$i"); then echo "node $i running (pid $pid)"; else echo "node $i stopped"; rc=1; fi
    done
    return "$rc"
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    kill) cmd_kill "${2:-}" ;;
    status) cmd_status ;;
    env) cat "$ENVFILE" ;;
    fetch) ensure_tools; fetch_jars ;;
    *) echo "usage: $0 start|stop|kill N|status|env|fetch" >&2; exit 2 ;;
esac
