package io.vmsched.vm;

import java.nio.file.Path;

/**
 * The hypervisor's side of an external VM (a VM that runs as a process of its own, e.g. QEMU): adopt a running
 * VM, start an incoming copy of it on a target host, live-migrate it there, report the migration and the VM's run
 * state, pause, resume and remove it.
 * <p>
 * A live migration between two hosts, each with its own driver:
 * <ol>
 * <li>source: {@link #adopt} the VM (once); its handle's {@link VmHandle#spec() spec} goes to the target;</li>
 * <li>target: {@link #prepareIncoming} with that spec: a copy waits at {@link VmHandle#incomingUri()};</li>
 * <li>source: {@link #migrate} to that URI, then {@link #awaitMigration} (or poll {@link #migration}) until
 * {@link MigrationState#isFinal()};</li>
 * <li>{@link MigrationState#COMPLETED}: the target copy has the VM, paused ({@link VmState.Kind#PAUSED}), the
 * source is {@link VmState.Kind#POSTMIGRATE}: {@link #resume} the copy, {@link #remove} the source. {@link MigrationState#FAILED} or
 * {@link MigrationState#CANCELLED}: the source still has the VM ({@link #resume} it if it was paused), and the
 * target's copy is {@link #remove}d.</li>
 * </ol>
 * <p>
 * Threading: every method MAY BLOCK (a round trip to the hypervisor, a process start, a process exit), each
 * within a bound the implementation states: vmsched calls a driver from a driver thread of its own, never from a
 * host's agent. Implementations are threadsafe: calls for different VMs may run at once, calls for one VM are
 * served one at a time.
 * <p>
 * Errors: each method throws {@link VmDriverException} whose message is one line naming the VM and the problem (a
 * socket that does not speak the protocol, a process that is not the one behind the socket, a VM adopted twice,
 * a VM that is gone, a refusal of the hypervisor's).
 */
public interface VmDriver extends AutoCloseable
{
    /** How often the default {@link #awaitMigration} and {@link #awaitStateChange} ask: 2 ms. */
    long POLL_NS = 2_000_000L;

    /** @return the kind of hypervisor this driver speaks to, e.g. {@code "qemu"}. */
    String kind();

    /**
     * Take charge of a VM that runs already: check that its control socket speaks the hypervisor's protocol, that
     * the process is the one behind the socket, and learn its launch spec from the process.
     *
     * @param name    vmsched's name for the VM, unique within this driver.
     * @param control the VM's control socket.
     * @param pid     the process that runs it.
     * @return its handle, without an incoming URI.
     * @throws VmDriverException if the socket is missing or does not speak the protocol, the process is not there
     *                           or not the one behind the socket, the name, socket or process is adopted already
     *                           by this driver (the message names the VM that has it), or the driver is closed.
     */
    VmHandle adopt(String name, Path control, long pid) throws VmDriverException;

    /**
     * On a target host: start an incoming copy that matches a spec, listening for the migration on the address
     * this driver was configured to bind (loopback by default). Once the migration completed the copy stays
     * {@link VmState.Kind#PAUSED} until {@link #resume}: its caller lets it run after its commit point, so that two
     * copies never run (the source's is paused too by then). The copy outlives this driver and this JVM: it is a
     * VM, not a child of vmsched's.
     *
     * @param name vmsched's name for the VM, unique within this driver.
     * @param spec a launch spec from a handle of {@link #adopt} (of this kind of driver).
     * @return the copy's handle; its {@link VmHandle#incomingUri()} is where the source migrates to.
     * @throws VmDriverException if the spec is not one of this driver's, the name is taken, the copy does not start
     *                           or does not listen in time (it is then removed), or the driver is closed.
     */
    VmHandle prepareIncoming(String name, byte[] spec) throws VmDriverException;

    /**
     * Start a live migration of a VM to an incoming copy; returns once the hypervisor has started it (poll
     * {@link #migration} for its progress).
     *
     * @param source the VM, a handle of this driver's.
     * @param uri    the incoming copy's {@link VmHandle#incomingUri()}.
     * @throws VmDriverException if the VM is gone, not this driver's, or the hypervisor refuses (e.g. a migration
     *                           is already in progress).
     */
    void migrate(VmHandle source, String uri) throws VmDriverException;

    /**
     * The progress of a VM's latest migration, from the hypervisor's own figures; on an incoming copy, of the
     * migration it receives.
     *
     * @param vm a handle of this driver's.
     * @return the status; {@link MigrationStatus#NONE}'s state if none was started.
     * @throws VmDriverException if the VM is gone or not this driver's, or the hypervisor does not answer in time.
     */
    MigrationStatus migration(VmHandle vm) throws VmDriverException;

    /**
     * The VM's run state. A VM whose process exited, or whose control socket is gone, is {@link VmState.Kind#GONE}
     * (not an exception).
     *
     * @param vm a handle of this driver's.
     * @return the state.
     * @throws VmDriverException if the VM is not this driver's, or the hypervisor does not answer in time while its
     *                           process and socket are there.
     */
    VmState state(VmHandle vm) throws VmDriverException;

    /**
     * Wait a while for the VM's migration to end: its status as soon as it is {@link MigrationState#isFinal() final},
     * else the latest one once the wait is over (or the thread is interrupted). A driver whose hypervisor tells it
     * (QEMU's {@code MIGRATION} events) waits for that and asks once more in case the word was lost; this default
     * asks {@link #migration} every 2 ms. Callers loop on it, checking their own deadlines between calls.
     *
     * @param vm        a handle of this driver's.
     * @param timeoutNs the longest wait, ns (0: ask once).
     * @return the status.
     * @throws VmDriverException as {@link #migration}.
     */
    default MigrationStatus awaitMigration(final VmHandle vm, final long timeoutNs) throws VmDriverException
    {
        final long deadline = System.nanoTime() + timeoutNs;
        while (true)
        {
            final MigrationStatus status = migration(vm);
            if (status.state().isFinal() || System.nanoTime() - deadline >= 0 || Thread.currentThread().isInterrupted())
            {
                return status;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(Math.min(POLL_NS, deadline - System.nanoTime()));
        }
    }

    /**
     * Wait a while for the VM to leave a run state (an incoming copy leaving {@link VmState.Kind#INMIGRATE} once
     * its migration ended): its state as soon as it is another, else the latest one once the wait is over (or the
     * thread is interrupted). As {@link #awaitMigration}: a driver may wait for its hypervisor's word; this default
     * asks {@link #state} every 2 ms.
     *
     * @param vm        a handle of this driver's.
     * @param leaving   the state waited out.
     * @param timeoutNs the longest wait, ns (0: ask once).
     * @return the state.
     * @throws VmDriverException as {@link #state}.
     */
    default VmState awaitStateChange(final VmHandle vm, final VmState.Kind leaving, final long timeoutNs)
        throws VmDriverException
    {
        final long deadline = System.nanoTime() + timeoutNs;
        while (true)
        {
            final VmState state = state(vm);
            if (state.kind() != leaving || System.nanoTime() - deadline >= 0 || Thread.currentThread().isInterrupted())
            {
                return state;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(Math.min(POLL_NS, deadline - System.nanoTime()));
        }
    }

    /**
     * Cancel the VM's migration in progress; the source keeps the VM. Nothing happens if none is in progress.
     *
     * @param vm the source, a handle of this driver's.
     * @throws VmDriverException if the VM is gone or not this driver's, or the hypervisor refuses.
     */
    void cancelMigration(VmHandle vm) throws VmDriverException;

    /**
     * Let the VM run (QEMU's {@code cont}); nothing happens if it runs. Resuming a source whose migration
     * {@link MigrationState#COMPLETED} runs the VM twice if the target's copy runs: only the caller knows it does not.
     *
     * @param vm a handle of this driver's.
     * @throws VmDriverException if the VM is gone or not this driver's, or the hypervisor refuses.
     */
    void resume(VmHandle vm) throws VmDriverException;

    /**
     * Pause the VM (QEMU's {@code stop}); nothing happens if it is paused.
     *
     * @param vm a handle of this driver's.
     * @throws VmDriverException if the VM is gone or not this driver's, or the hypervisor refuses.
     */
    void stop(VmHandle vm) throws VmDriverException;

    /**
     * End the VM's process: ask the hypervisor to quit, wait a bounded time for the process to exit, then kill it;
     * the driver forgets the VM. A VM that is gone already is only forgotten.
     *
     * @param vm a handle of this driver's.
     * @throws VmDriverException if the VM is not this driver's, or its process outlives the kill's bounded wait.
     */
    void remove(VmHandle vm) throws VmDriverException;

    /**
     * End a VM that can never run again here (a source's paused copy once the target's runs): as {@link #remove}, but
     * return as soon as the hypervisor has been told to quit it (or its process is gone); the driver waits for its
     * answer and the
     * process's exit, kills it past the bound and deletes its files on a thread of its own, and a later
     * {@link #adopt} or {@link #prepareIncoming} of the same name waits for that first. A handoff's commit uses it,
     * so that QEMU's exit (tens of milliseconds) is not on the migration's path. The default is {@link #remove}.
     *
     * @param vm a handle of this driver's.
     * @throws VmDriverException as {@link #remove}.
     */
    default void retire(final VmHandle vm) throws VmDriverException
    {
        remove(vm);
    }

    /**
     * The copies this driver, or an earlier one of the same kind on the same host, started ({@link #prepareIncoming})
     * whose processes still run, adopted or not: after a crash, recovery quits those no VM of the host's is (a copy
     * started just before the crash, before the host journaled it). Only their name, process and control socket are
     * filled in (the spec is empty).
     *
     * @return the copies, in no order.
     * @throws VmDriverException if they cannot be listed.
     */
    default java.util.List<VmHandle> copies() throws VmDriverException
    {
        return java.util.List.of();
    }

    /**
     * The balloon of a VM this driver holds, driven through the driver's own control of it (a hypervisor may serve
     * one control client per VM), or null if the driver has none. The host opens it when the VM comes to it and closes
     * it when the VM leaves.
     * <p>
     * Threading: called on the host's agent thread, so it must not block (connect at the first request, on the
     * balloon driver's own thread).
     *
     * @param vm a handle of this driver's (it may not be adopted yet: the balloon's requests then fail).
     * @return the balloon driver, or null (the default: no balloon).
     */
    default io.vmsched.balloon.BalloonDriver balloon(final VmHandle vm)
    {
        return null;
    }

    /**
     * Let go of every VM (their connections): the VMs keep running. Later calls throw {@link VmDriverException}.
     * Idempotent.
     */
    @Override
    void close();
}
