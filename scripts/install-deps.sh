#!/usr/bin/env bash
# Install everything boxd needs to build, test and benchmark on Debian 12.
# Idempotent; skips apt entirely when every package is already present.
set -euo pipefail

packages=(
	# build
	build-essential meson ninja-build pkg-config
	# required libraries
	libevent-dev libseccomp-dev libprotobuf-c-dev protobuf-c-compiler
	libsystemd-dev libinih-dev libjson-c-dev
	# man pages (scdoc sources) and where bash completion is installed
	scdoc bash-completion
	# tests
	libcriterion-dev valgrind strace
	# man page and completion tests
	man-db groff-base zsh
	# boxd-bb-runner, the Buildbarn runner adapter (gRPC core)
	libgrpc-dev
	# the Buildbarn runner's suite plays the worker: gRPC client, stubs
	python3-grpcio python3-protobuf protobuf-compiler
	# cgroup v2 tests in a VM
	qemu-system-x86 busybox-static linux-image-amd64 cpio
	# fuzzing and sanitizers
	clang-14 libclang-rt-14-dev
	# benchmarks and comparisons
	bubblewrap hyperfine linux-perf
	# systemd unit checks
	systemd
	# --net outbound's user-mode network stack (pasta)
	passt
	# tools the tests call
	iproute2 procps python3
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done

if ((${#missing[@]})); then
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
