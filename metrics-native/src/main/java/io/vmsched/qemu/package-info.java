/**
 * QEMU driven over QMP, its machine protocol: {@link io.vmsched.qemu.QmpClient} (JSON lines over the VM's
 * Unix domain socket, reused by anything that drives QEMU) and {@link io.vmsched.qemu.QemuBalloonDriver}
 * (the {@link io.vmsched.balloon.BalloonDriver} of an external QEMU VM: {@code balloon}, {@code query-balloon},
 * and the guest's statistics through {@code qom-get}) and {@link io.vmsched.qemu.QemuVmDriver} (the
 * {@link io.vmsched.vm.VmDriver} of QEMU VMs: adopt, incoming copies, live migration, run state).
 */
package io.vmsched.qemu;
