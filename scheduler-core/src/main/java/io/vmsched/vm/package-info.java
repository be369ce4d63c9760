/**
 * External VMs driven through their hypervisor (issue 21): a {@link io.vmsched.vm.VmDriver} adopts a VM that
 * runs as a process of its own (QEMU, reached over its control socket), starts an incoming copy of it on a target
 * host, live-migrates it there and reports the migration's progress and the VM's run state.
 * <p>
 * vmsched journals a VM's {@link io.vmsched.vm.VmHandle} (its {@link io.vmsched.vm.VmHandle#spec() spec} is the
 * VM's state: what a target needs to start the matching copy) and drives the driver from a thread of its own: every
 * driver method may block.
 */
package io.vmsched.vm;
