package io.vmsched.balloon;

/**
 * Gives an external VM (an OS process bound by its PID: {@code Cluster.admitExternal}) its balloon driver, the
 * hypervisor's way to ask the guest for memory ({@code io.vmsched.qemu.QemuBalloonDriver} for QEMU). Set on
 * {@code HostConfig.externalBalloons}; the host asks it each time such a VM comes to it (admitted, or found in
 * its journal after a restart), and closes the driver when the VM leaves or the host closes.
 * <p>
 * Threading: called on the host's agent, so it must not block: a driver connects on its own thread.
 */
@FunctionalInterface
public interface ExternalBalloons
{
    /**
     * @param vmId the VM.
     * @param name the name it was admitted with.
     * @param pid  its process.
     * @return its driver, or null if it has no balloon (its requests end {@link BalloonResult.Outcome#NO_BALLOON}).
     */
    BalloonDriver open(long vmId, String name, long pid);
}
