#!/bin/bash
# node-labeller.sh: virt-handler's init container (image: the launcher's; `/bin/sh -c node-labeller.sh`,
# privileged), as KubeVirt's cmd/virt-launcher/node-labeller/node-labeller.sh. Asks libvirt what this
# node's QEMU can do and leaves it in /var/lib/kubevirt-node-labeller for virt-handler's node labeller:
#   virsh_domcapabilities.xml  domain capabilities for the node's machine type and virt type
#   supported_features.xml     the host CPU's baseline with its features (x86_64 and s390x)
#   capabilities.xml           libvirt's host capabilities
#   virsh_domcapabilities_<other arch>.xml  cross-architecture emulation, when QEMU has it
# Env: PREFERRED_VIRTTYPE (kvm) and HYPERVISOR_DEVICE (kvm), both or neither. The virt type is the
# preferred one when /dev/$HYPERVISOR_DEVICE exists (made from /proc/misc if the kernel has it), else qemu.
# Debian's libvirt has no virtqemud: a private libvirtd answers virsh, and is stopped at the end.
set -xeo pipefail

out=/var/lib/kubevirt-node-labeller

if [ -z "$HYPERVISOR_DEVICE" ] || [ -z "$PREFERRED_VIRTTYPE" ]; then
  echo "Warning: Env vars HYPERVISOR_DEVICE or PREFERRED_VIRTTYPE not set. Defaulting to KVM values for both vars"
  echo "Currently specified values: HYPERVISOR_DEVICE='$HYPERVISOR_DEVICE', PREFERRED_VIRTTYPE='$PREFERRED_VIRTTYPE'"
  HYPERVISOR_DEVICE=kvm
  PREFERRED_VIRTTYPE=kvm
fi

arch=$(uname -m)
case "$arch" in
  x86_64) machine=q35 ;;
  aarch64) machine=virt ;;
  s390x) machine=s390-ccw-virtio ;;
  *) exit 0 ;; # no labels for other architectures
esac

device="/dev/$HYPERVISOR_DEVICE"
# the device's misc minor, if this kernel has it (a container's /dev may lack the node)
minor=$(awk -v name="$HYPERVISOR_DEVICE" '$2 == name { print $1 }' /proc/misc)
if [ ! -e "$device" ] && [ -n "$minor" ]; then
  mknod "$device" c 10 "$minor"
fi
virttype=qemu
if [ -e "$device" ]; then
  chmod o+rw "$device"
  virttype=$PREFERRED_VIRTTYPE
fi
if [ -e /dev/sev ]; then
  chmod o+rw /dev/sev # QEMU reads the SEV capabilities through it
fi

if command -v virtqemud >/dev/null; then
  daemon=virtqemud
else
  daemon=libvirtd
fi
pidfile=/run/kubevirt-node-labeller-$daemon.pid
# the launcher image has libvirt's daemons but not the host setup (libvirt-daemon-system) that makes these
mkdir -p /var/log/libvirt /var/lib/libvirt /var/cache/libvirt
"$daemon" -d --pid-file "$pidfile"
stop_daemon() {
  local pid
  pid=$(cat "$pidfile" 2>/dev/null) || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}
trap stop_daemon EXIT

# the flags this virsh knows (read once: grep -q would cut the pipe, and pipefail would take that as "no")
help=$(virsh domcapabilities --help 2>&1)
domcaps_flags=()
[[ $help == *--expand-cpu-features* ]] && domcaps_flags+=(--expand-cpu-features)
supported_flags=()
[[ $help == *--supported-cpu-features* ]] && supported_flags+=(--supported-cpu-features)

virsh domcapabilities --machine "$machine" --arch "$arch" --virttype "$virttype" "${domcaps_flags[@]}" > "$out/virsh_domcapabilities.xml"

if [ "$arch" = x86_64 ] || [ "$arch" = s390x ]; then
  virsh domcapabilities --machine "$machine" --arch "$arch" --virttype "$virttype" "${domcaps_flags[@]}" "${supported_flags[@]}" |
    virsh hypervisor-cpu-baseline --features /dev/stdin --machine "$machine" --arch "$arch" --virttype "$virttype" > "$out/supported_features.xml"
fi

virsh capabilities > "$out/capabilities.xml"

# Read by the node labeller to decide whether to advertise cross-architecture emulation.
if [ "$arch" = x86_64 ]; then
  virsh domcapabilities --machine virt --arch aarch64 --virttype qemu > "$out/virsh_domcapabilities_aarch64.xml" 2>/dev/null || true
elif [ "$arch" = aarch64 ]; then
  virsh domcapabilities --machine q35 --arch x86_64 --virttype qemu > "$out/virsh_domcapabilities_x86_64.xml" 2>/dev/null || true
fi
