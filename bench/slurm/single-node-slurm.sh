#!/usr/bin/env bash
# A throwaway single-node Slurm on this machine, for bench/Mezzo.JobsBench --slurm: its own munge key and munged,
# a slurm.conf naming this host, slurmctld and slurmd as root, everything (state, spool, logs, sockets) under one
# directory, nothing in /etc touched. Needs the Debian package slurm-wlm (apt-get install -y slurm-wlm) and root.
#
#   bench/slurm/single-node-slurm.sh up DIR [CPUS]   # prints "SLURM_CONF=DIR/slurm.conf" once the node is idle
#   bench/slurm/single-node-slurm.sh down DIR        # stops the daemons started by "up" (by pid file) and deletes DIR
#
# Ports: SLURM_BENCH_PORT (slurmctld, default 16817) and the next one (slurmd).
set -euo pipefail

command=${1:?usage: $0 up|down DIR [CPUS]}
dir=${2:?usage: $0 up|down DIR [CPUS]}
cpus=${3:-64}
port=${SLURM_BENCH_PORT:-16817}
node=$(hostname -s)

wait_gone() { # pid file: wait up to 10 s for that process to exit
    local pid
    pid=$(cat "$1" 2>/dev/null) || return 0
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

case "$command" in
up)
    [ "$(id -u)" = 0 ] || { echo "single-node Slurm must be started as root (slurmd runs jobs as their user)" >&2; exit 1; }
    command -v slurmctld >/dev/null || { echo "slurmctld not found: apt-get install -y slurm-wlm" >&2; exit 1; }
    mkdir -p "$dir"/munge "$dir"/state "$dir"/spool "$dir"/log "$dir"/out
    chmod 755 "$dir" "$dir"/munge
    # munged insists on a key readable only by its owner.
    head -c 1024 /dev/urandom > "$dir"/munge/munge.key
    chmod 400 "$dir"/munge/munge.key
    munged --force --key-file="$dir"/munge/munge.key --socket="$dir"/munge/munge.socket \
        --pid-file="$dir"/munge/munged.pid --log-file="$dir"/munge/munged.log --seed-file="$dir"/munge/munged.seed
    # cpus: as many job slots as the Mezzo agent of the benchmark has (its jobs take 0.01 cpus, Slurm's at least one
    # core); config_overrides lets slurmd declare more CPUs than the machine has. No cgroups, no accounting: the
    # lightest Slurm that still runs every job through slurmctld, slurmd and slurmstepd.
    cat > "$dir"/slurm.conf <<CONF
ClusterName=mezzobench
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
MinJobAge=3600
MaxJobCount=100000
ReturnToService=2
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=65536 State=UNKNOWN
PartitionName=bench Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
    export SLURM_CONF="$dir"/slurm.conf
    slurmctld -f "$SLURM_CONF"
    slurmd -f "$SLURM_CONF"
    for _ in $(seq 1 300); do
        if [ "$(sinfo -h -n "$node" -o %t 2>/dev/null)" = idle ]; then
            echo "SLURM_CONF=$SLURM_CONF"
            exit 0
        fi
        sleep 0.1
    done
    echo "the Slurm node did not become idle within 30 s; logs in $dir/log" >&2
    exit 1
    ;;
down)
    [ -d "$dir" ] || exit 0
    [ -f "$dir"/slurmd.pid ] && kill -TERM "$(cat "$dir"/slurmd.pid)" 2>/dev/null || true
    [ -f "$dir"/slurmctld.pid ] && kill -TERM "$(cat "$dir"/slurmctld.pid)" 2>/dev/null || true
    wait_gone "$dir"/slurmd.pid
    wait_gone "$dir"/slurmctld.pid
    munged --stop --socket="$dir"/munge/munge.socket >/dev/null 2>&1 || true
    wait_gone "$dir"/munge/munged.pid
    rm -rf "$dir"
    ;;
*)
    echo "usage: $0 up|down DIR [CPUS]" >&2
    exit 2
    ;;
esac
