/**
 * The memory balloon (004_ed62f248e29de8e9): the host asks a reservation module inside a guest for an
 * amount of memory or processors ({@link io.vmsched.balloon.BalloonRequest}), and the guest, with its own
 * knowledge, changes its own allocation and says what it now holds ({@link io.vmsched.balloon.BalloonResult}).
 * A mechanism, not a policy: the host asks, the guest decides what to free and may give less than asked.
 * In-JVM guests answer through {@link io.vmsched.balloon.Balloon}; external VMs through a
 * {@link io.vmsched.balloon.BalloonDriver} (QEMU's virtio-balloon over QMP).
 */
package io.vmsched.balloon;
