package io.vmsched.cluster;

import io.vmsched.handoff.HostMessages;
import io.vmsched.jfr.FlightEvents;
import io.vmsched.journal.AbortReason;
import io.vmsched.journal.Journal;
import io.vmsched.journal.JournalRecord;
import io.vmsched.journal.RecordType;
import io.vmsched.load.LoadFactors;
import io.vmsched.load.VmLoad;
import io.vmsched.schedule.EntryState;
import io.vmsched.schedule.Schedule;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The source side of the journaled handoff (seed VM claim 13; REL claims 5, 6, 13):
 * MIGRATION_INTENT is journaled, the entry is stopped (a running slice ends first), the guest's
 * snapshot is journaled as SUSPENDED and sent. On the target's ack: COMMITTED, the entry deleted and
 * the source's copy dropped. Before the transfer leaves, any failure aborts here alone; after it, the
 * source does not decide alone: with no answer within the timeout it asks the target to resolve the
 * migration (the target answers from its journal), never guessing.
 * <p>
 * Invariant: the VM is owned by this host until the target journals ACTIVATED; its entry here is
 * MIGRATING_OUT (never dispatched) from the stop until the outcome, so it runs on at most one host.
 * <p>
 * A node of a cluster across machines ({@link OwnerRegistry}): the commit point is the registry applying
 * the target's move, and this side runs the VM again only after the registry let it reclaim it: a
 * refusal (NACK), or a target silent for {@link #RECLAIM_AFTER} timeouts, asks for a reclaim, and the
 * registry's answer decides (reclaimed: abort and resume; the target's move won: commit).
 * <p>
 * A driven VM (a hypervisor's, {@link HostRuntime#DRIVEN_KIND_PREFIX}) is not stopped: its handle (its launch spec)
 * is journaled as SUSPENDED and sent; the target starts an incoming copy and says where it listens (PREPARED);
 * this side's driver live-migrates the VM there (PHASE_MIGRATING: no timeout of the handoff's, the migration has
 * its own, {@link HostConfig#vmMigrationTimeoutNs}, and is cancelled past it). The target's copy running is the
 * commit point, journaled ACTIVATED by the target, which then acks; on the ack this side quits its paused copy,
 * then journals COMMITTED (so a source with COMMITTED holds no copy).
 * A migration that failed or was cancelled asks the target to resolve: it kills its copy before it answers, and
 * only then does this side make its own copy run again, so two copies never run and one always does.
 * A node sends a driven VM's transfer again every handoff timeout while it waits for PREPARED or for the answer, and
 * at once when its transport learns that the target restarted ({@link Transport#peerIncarnation}):
 * its messages are best effort and a target that restarted forgot what it had not journaled, and the target answers
 * a repeat from what it knows (where its copy listens, its outcome, or, having never journaled it, a new copy).
 * A node that closes does not wait out that long timeout for a target that has not prepared a copy (it may have
 * stopped, or dropped the transfer as meant for its previous run): the registry is asked to reclaim the VM after a
 * handoff timeout.
 * <p>
 * <b>Note:</b> Not threadsafe: the host's agent only.
 */
final class HandoffSource
{
    /** The longest a driver thread waits on the hypervisor before it looks at its deadline again. */
    static final long DRIVER_WAIT_NS = 50_000_000L;

    static final int PHASE_STOPPING = 1;
    static final int PHASE_AWAIT_ACK = 2;
    static final int PHASE_RESOLVING = 3;
    /** A driven VM's live migration runs: the hypervisor reports its end. */
    static final int PHASE_MIGRATING = 4;
    /** A node's source asks the registry to reclaim after this many timeouts without an answer. */
    static final int RECLAIM_AFTER = 2;

    /** A migration away from this host, until its outcome. */
    static final class Outgoing
    {
        final long migrationId;
        final HostVm vm;
        final int peer;
        final long startNs;
        int phase = PHASE_STOPPING;
        long deadlineNs;
        int timeouts;
        boolean reclaiming; // a node: the registry was asked; its answer settles this migration
        io.vmsched.vm.MigrationStatus live; // a driven VM's live migration as its hypervisor ended it, once it did
        boolean liveStarted; // a driven VM: the hypervisor was asked to migrate it (its copy here may be paused)
        int earlyAnswer; // the target answered while the hypervisor's end was still to be learnt: 1 ack, -1 nack
        boolean removing; // a driven VM's paused copy here is being quit; COMMITTED is journaled once QEMU accepted it
        boolean copyGone;
        long resendNs; // a node's driven VM awaiting PREPARED or the answer: when the transfer is sent again
        int sentToRun; // the target's run (Transport.peerIncarnation) the transfer was last sent to

        Outgoing(final long migrationId, final HostVm vm, final int peer, final long startNs)
        {
            this.migrationId = migrationId;
            this.vm = vm;
            this.peer = peer;
            this.startNs = startNs;
        }
    }

    private final int hostId;
    private final HostConfig config;
    private final ClusterView view;
    private final Journal journal;
    private final Schedule schedule;
    private final VmTable vms;
    private final Transport transport;
    private final Faults faults;
    private final Requests requests;
    private HostVmDriver vmDriver;
    /** Told of each VM this side moves (agent thread): the balancer keeps a migration out of its mean. */
    private java.util.function.Consumer<HostVm> moved = vm -> { };
    private final List<Outgoing> outgoing = new ArrayList<>();
    // a node's live migrations that recovery settled as aborted (the registry let this host reclaim the VM) while the
    // target may still hold a copy waiting for them: asked to resolve until it answers, so it quits that copy now,
    // not at its deadline (and takes the VM again meanwhile: its driver refuses a second copy of one VM)
    private final List<long[]> abortedAtRecovery = new ArrayList<>(); // {migrationId, vmId, peer, untilNs, nextNs}
    private final HostMessages.Transfer transfer = new HostMessages.Transfer();
    private final HostMessages.Resolve resolve = new HostMessages.Resolve();
    private final UnsafeBuffer resolveBuffer = new UnsafeBuffer(ByteBuffer.allocateDirect(HostMessages.Resolve.LENGTH));
    private UnsafeBuffer transferBuffer = new UnsafeBuffer(new byte[1024]);
    private boolean closing;
    private long closingNs;
    private long migrationSequence;
    private volatile int inFlight;

    final AtomicLong committed = new AtomicLong();
    final AtomicLong aborts = new AtomicLong();

    HandoffSource(final int hostId, final HostConfig config, final ClusterView view, final Journal journal,
        final Schedule schedule, final VmTable vms, final Transport transport, final Faults faults,
        final Requests requests)
    {
        this.hostId = hostId;
        this.config = config;
        this.view = view;
        this.journal = journal;
        this.schedule = schedule;
        this.vms = vms;
        this.transport = transport;
        this.faults = faults;
        this.requests = requests;
    }

    /** @param vmDriver the host's hypervisor driver, or null. */
    void vmDriver(final HostVmDriver vmDriver)
    {
        this.vmDriver = vmDriver;
    }

    /** @return whether a migration may move this VM (allocates nothing). */
    boolean movable(final HostVm vm)
    {
        return requests.movable(vm);
    }

    /** Recovery: numbering goes on after the highest migration the journal holds. */
    void migrationSequence(final long sequence)
    {
        migrationSequence = sequence;
    }

    /** @return the highest migration id this host has used (0 if none; agent thread). */
    long highestMigrationId()
    {
        return migrationSequence == 0 ? 0 : JournalRecord.migrationId(hostId, migrationSequence);
    }

    /** @return migrations in flight (agent thread). */
    int size()
    {
        return outgoing.size();
    }

    /**
     * @return migrations in flight that wait for a peer's message rather than for their hypervisor's live migration
     * (agent thread): the ones the host heats its process for. A live migration lasts as long as QEMU copies, and
     * its driver thread wakes the agent when QEMU is done.
     */
    int awaitingPeers()
    {
        int count = 0;
        for (int i = 0, size = outgoing.size(); i < size; i++)
        {
            if (!outgoing.get(i).vm.driven)
            {
                count++;
            }
        }
        return count;
    }

    /** @return migrations in flight, a racy snapshot for any thread. */
    int inFlight()
    {
        return inFlight;
    }

    /**
     * Start moving a VM to a peer.
     *
     * @param vm        the VM.
     * @param peer      the target host.
     * @param loadHere  its load on this host (journaled with the intent).
     * @param loadThere its load on the target.
     * @param now       the agent's clock.
     */
    void start(final HostVm vm, final int peer, final double loadHere, final double loadThere, final long now)
    {
        final long migrationId = JournalRecord.migrationId(hostId, ++migrationSequence);
        final Outgoing out = new Outgoing(migrationId, vm, peer, now);
        journal.append(RecordType.MIGRATION_INTENT, migrationId, vm.vmId, peer, 0, loadHere, loadThere);
        FlightEvents.handoffBegin(hostId, migrationId, vm.vmId, peer, loadHere, loadThere);
        vm.out = out;
        outgoing.add(out);
        inFlight = outgoing.size();
        try
        {
            fault(Faults.Point.SOURCE_AFTER_INTENT, migrationId);
            if (!vm.driven)
            {
                schedule.stopForMigration(vm.vmId); // a driven VM runs on through its live migration
            }
        }
        catch (final RuntimeException ex)
        {
            abort(out, AbortReason.SOURCE_FAILED_TO_STOP, "source failed to stop it: " + ex.getMessage());
        }
    }

    /**
     * Recovery (a node's): a driven VM's migration a crash cut short was aborted (reclaimed); its target is asked to
     * resolve it once the host runs, until it answers.
     *
     * @param migrationId the migration.
     * @param vmId        the VM.
     * @param peer        its target.
     */
    void abortedAtRecovery(final long migrationId, final long vmId, final int peer)
    {
        final long now = System.nanoTime();
        abortedAtRecovery.add(new long[] {migrationId, vmId, peer, now + config.vmMigrationTimeoutNs, now});
    }

    /**
     * The host closes (agent thread, at each cycle from then): a node's driven VM whose target has not prepared its copy
     * within a handoff timeout from now is reclaimed through the registry rather than waited for.
     *
     * @param now the agent's clock.
     */
    void closing(final long now)
    {
        if (!closing)
        {
            closing = true;
            closingNs = now;
        }
    }

    /** Each duty cycle: send the transfer of stopped VMs, ask targets that stay silent to resolve. */
    int progress(final long now)
    {
        int work = 0;
        for (int i = abortedAtRecovery.size() - 1; i >= 0; i--)
        {
            final long[] aborted = abortedAtRecovery.get(i);
            if (now - aborted[3] >= 0)
            {
                abortedAtRecovery.remove(i); // the target's copy has passed its own deadline by now
            }
            else if (now - aborted[4] >= 0)
            {
                aborted[4] = now + config.handoffTimeoutNs;
                resolve.wrap(resolveBuffer, 0).set(aborted[0], aborted[1], hostId, watermark());
                transport.send((int)aborted[2], HostMessages.RESOLVE, resolveBuffer, 0, HostMessages.Resolve.LENGTH);
                work++;
            }
        }
        for (int i = outgoing.size() - 1; i >= 0; i--)
        {
            if (i >= outgoing.size())
            {
                continue;
            }
            final Outgoing out = outgoing.get(i);
            if (out.phase == PHASE_STOPPING)
            {
                if (out.vm.driven ||
                    schedule.stateOf(out.vm.vmId) == EntryState.MIGRATING_OUT && !schedule.isPending(out.vm.vmId))
                {
                    sendTransfer(out, now);
                    work++;
                }
            }
            else if (closing && out.phase == PHASE_AWAIT_ACK && out.vm.driven && !out.liveStarted && view.registry != null &&
                now - closingNs >= config.handoffTimeoutNs)
            {
                // the host closes and the target has not prepared a copy within a handoff timeout: its migration
                // timeout (long enough for a hypervisor to start) is not waited out; the registry decides now, so a
                // node stopped cleanly leaves nothing in doubt (this copy never paused: it runs on if reclaimed); the
                // target is asked too, so a copy it still prepares is settled now, not left to its next start
                out.phase = PHASE_RESOLVING;
                out.timeouts = RECLAIM_AFTER;
                out.deadlineNs = now + config.handoffTimeoutNs;
                reclaim(out);
                askToResolve(out);
                work++;
            }
            else if (out.phase == PHASE_AWAIT_ACK && out.vm.driven && view.registry != null && now - out.deadlineNs < 0 &&
                (now - out.resendNs >= 0 || transport.peerIncarnation(out.peer) != out.sentToRun))
            {
                // a node's messages are best effort (one the transport cannot take now is dropped) and a target that
                // restarted forgot what it had not journaled: the transfer is sent again, and the target answers it
                // from what it knows (PREPARED again, its outcome, or a new copy), so a lost PREPARED or answer costs
                // a handoff timeout, not the whole migration timeout; at once when the target is learnt to have
                // restarted (it refused what was sealed for its previous run)
                out.resendNs = now + config.handoffTimeoutNs;
                resendTransfer(out);
                work++;
            }
            else if (out.phase != PHASE_MIGRATING && now - out.deadlineNs >= 0)
            {
                // no answer in time: ask the target to resolve it, never guess
                out.phase = PHASE_RESOLVING;
                if (view.registry != null && ++out.timeouts >= RECLAIM_AFTER)
                {
                    reclaim(out); // the target may be gone: the registry decides
                }
                out.deadlineNs = now + config.handoffTimeoutNs;
                askToResolve(out);
                work++;
            }
        }
        return work;
    }

    private void sendTransfer(final Outgoing out, final long now)
    {
        final HostVm vm = out.vm;
        final int length;
        try
        {
            final byte[] state = vm.driven ? vm.handle.encode() : vm.guest.snapshot(); // a driven VM: its spec
            journal.appendGuest(RecordType.SUSPENDED, out.migrationId, vm.vmId, out.peer, vm.weight, vm.kindUtf8, state);
            fault(Faults.Point.SOURCE_AFTER_SUSPENDED, out.migrationId);
            length = encodeTransfer(out, state);
        }
        catch (final RuntimeException ex)
        {
            abort(out, AbortReason.SOURCE_FAILED_BEFORE_TRANSFER, "source failed before the transfer: " + ex.getMessage());
            return;
        }
        // from here the target may activate it: the source no longer decides alone
        out.phase = PHASE_AWAIT_ACK;
        out.resendNs = now + config.handoffTimeoutNs;
        // a driven VM's target starts a hypervisor process before it answers
        out.deadlineNs = now + (vm.driven ? config.vmMigrationTimeoutNs : config.handoffTimeoutNs);
        // emitted before the send: the target's ack (another thread) must not be stamped before it
        FlightEvents.handoffTransfer(hostId, out.migrationId, vm.vmId, out.peer, length);
        out.sentToRun = transport.peerIncarnation(out.peer);
        try
        {
            if (!transport.send(out.peer, HostMessages.TRANSFER, transferBuffer, 0, length))
            {
                abort(out, AbortReason.TRANSFER_NOT_QUEUED, "the transfer of " + length + " bytes could not be queued at host " +
                    out.peer +
                    " (its inbox is full, down, or smaller than 8 x the message)"); // it never left: safe
                return;
            }
        }
        catch (final RuntimeException ex)
        {
            abort(out, AbortReason.TRANSFER_NOT_SENT, "the transfer could not be sent: " + ex.getMessage()); // it never left: safe
        }
    }

    /** @return the transfer's length, encoded in {@link #transferBuffer}. */
    private int encodeTransfer(final Outgoing out, final byte[] state)
    {
        final HostVm vm = out.vm;
        final int needed = HostMessages.Transfer.HEADER_LENGTH + vm.kindUtf8.length + state.length;
        if (transferBuffer.capacity() < needed)
        {
            transferBuffer = new UnsafeBuffer(new byte[Math.max(needed, transferBuffer.capacity() * 2)]);
        }
        final LoadFactors usage = vm.load.factors();
        return transfer.wrap(transferBuffer, 0).set(out.migrationId, vm.vmId, hostId, vm.weight, watermark())
            .usage(usage.cpuCores, usage.ioBytesPerSecond, usage.memoryBytes, vm.load.mode() == VmLoad.Mode.TARGET)
            .guest(vm.kindUtf8, state);
    }

    /** A driven VM's transfer again, as journaled (its spec): lost or not, the target's answer to it is the same. */
    private void resendTransfer(final Outgoing out)
    {
        try
        {
            final int length = encodeTransfer(out, out.vm.handle.encode());
            out.sentToRun = transport.peerIncarnation(out.peer);
            transport.send(out.peer, HostMessages.TRANSFER, transferBuffer, 0, length); // not taken: the next resend
        }
        catch (final RuntimeException ex)
        {
            view.listener.onError(hostId, ex); // the timeout still resolves it
        }
    }

    /** @return this source's oldest unsettled migration id: targets may forget outcomes below it. */
    long watermark()
    {
        long lowest = JournalRecord.migrationId(hostId, migrationSequence + 1);
        for (int i = 0, n = outgoing.size(); i < n; i++)
        {
            lowest = Math.min(lowest, outgoing.get(i).migrationId);
        }
        return lowest;
    }

    /**
     * The target's answer: activated (commit here) or not (abort here).
     *
     * @param migrationId the migration.
     * @param from        the answering host.
     * @param activated   whether the target journaled ACTIVATED.
     */
    void onAnswer(final long migrationId, final int from, final boolean activated)
    {
        Outgoing out = null;
        for (int i = 0, n = outgoing.size(); i < n; i++)
        {
            if (outgoing.get(i).migrationId == migrationId)
            {
                out = outgoing.get(i);
                break;
            }
        }
        if (out == null)
        {
            for (int i = abortedAtRecovery.size() - 1; i >= 0; i--)
            {
                if (abortedAtRecovery.get(i)[0] == migrationId && abortedAtRecovery.get(i)[2] == from)
                {
                    abortedAtRecovery.remove(i); // the target let go of its copy
                    if (activated)
                    {
                        // cannot be: the registry fenced the move off when this host reclaimed the VM
                        view.listener.onError(hostId, new IllegalStateException("host " + from + " says it activated " +
                            "migration " + migrationId + ", which this host's recovery aborted by the registry's reclaim"));
                    }
                }
            }
            return; // a duplicate answer (to a resolve) for a migration already settled
        }
        if (out.phase == PHASE_STOPPING)
        {
            return;
        }
        if (from != out.peer)
        {
            // only the migration's target answers for it
            view.listener.onError(hostId, new IllegalArgumentException("an answer to migration " + migrationId +
                " from host " + from + ", not its target " + out.peer + ": ignored"));
            return;
        }
        if (out.phase == PHASE_MIGRATING)
        {
            out.earlyAnswer = activated ? 1 : -1; // settled once the hypervisor's figures are in: this copy may pause
            return;
        }
        answered(out, activated);
    }

    /** The target's answer to a migration past its transfer: commit, abort, or (a node) ask the registry. */
    private void answered(final Outgoing out, final boolean activated)
    {
        final long migrationId = out.migrationId;
        if (!activated)
        {
            if (view.registry != null)
            {
                reclaim(out); // a node resumes the VM only once the registry says it is still its own
                return;
            }
            abort(out, AbortReason.TARGET_DID_NOT_ACTIVATE, "the target did not activate it");
            return;
        }
        fault(Faults.Point.SOURCE_ON_ACK, migrationId); // a throw here loses the ack: the resolve asks again
        commit(out);
    }

    /**
     * A driven VM's target started its incoming copy: migrate the VM there (on a driver thread), and ask the target
     * to resolve if the hypervisor ends it short of COMPLETED.
     *
     * @param migrationId the migration.
     * @param from        the target.
     * @param uri         where the copy listens.
     */
    void onPrepared(final long migrationId, final int from, final String uri)
    {
        final Outgoing out = find(migrationId);
        if (out != null && from == out.peer && out.liveStarted)
        {
            return; // a repeat, answering a transfer sent again: the hypervisor was asked once
        }
        if (out == null || out.phase != PHASE_AWAIT_ACK || from != out.peer || !out.vm.driven || vmDriver == null)
        {
            view.listener.onError(hostId, new IllegalStateException("a PREPARED of migration " + migrationId +
                " from host " + from + " that no live migration here waits for: ignored"));
            return;
        }
        out.phase = PHASE_MIGRATING;
        out.liveStarted = true;
        final io.vmsched.vm.VmHandle handle = out.vm.handle;
        final long deadlineNs = System.nanoTime() + config.vmMigrationTimeoutNs;
        vmDriver.submit(driver -> liveMigrate(driver, handle, uri, deadlineNs), (status, failure) ->
            migrated(out, status, failure));
    }

    /**
     * On a driver thread: migrate, then wait for the hypervisor to end the migration (its events, or 2 ms polls:
     * {@link io.vmsched.vm.VmDriver#awaitMigration}), in slices of {@link #DRIVER_WAIT_NS}; cancel it past the
     * deadline.
     */
    private static io.vmsched.vm.MigrationStatus liveMigrate(final io.vmsched.vm.VmDriver driver,
        final io.vmsched.vm.VmHandle handle, final String uri, final long deadlineNs) throws io.vmsched.vm.VmDriverException
    {
        driver.migrate(handle, uri);
        boolean cancelled = false;
        while (true)
        {
            final long left = deadlineNs - System.nanoTime();
            final io.vmsched.vm.MigrationStatus status = driver.awaitMigration(handle,
                cancelled ? DRIVER_WAIT_NS : Math.max(0, Math.min(DRIVER_WAIT_NS, left)));
            if (status.state().isFinal())
            {
                return status;
            }
            if (!cancelled && System.nanoTime() - deadlineNs > 0)
            {
                driver.cancelMigration(handle);
                cancelled = true; // waited on until the hypervisor says it ended (cancelled, or completed after all)
            }
            if (Thread.interrupted())
            {
                throw new io.vmsched.vm.VmDriverException(handle.name(), "the host closed during its migration");
            }
        }
    }

    /** Agent: the hypervisor ended a live migration (or the driver failed): wait for the ack, or ask the target. */
    private void migrated(final Outgoing out, final io.vmsched.vm.MigrationStatus status, final String failure)
    {
        if (find(out.migrationId) != out)
        {
            return; // settled meanwhile
        }
        out.live = status;
        if (out.earlyAnswer != 0)
        {
            // the target's copy ran (it acked: commit) or was killed (it nacked: this copy runs again, a node's once
            // the registry let it reclaim the VM)
            out.phase = PHASE_AWAIT_ACK;
            out.deadlineNs = System.nanoTime() + config.handoffTimeoutNs;
            answered(out, out.earlyAnswer > 0);
            return;
        }
        final long now = System.nanoTime();
        if (status != null && status.state() == io.vmsched.vm.MigrationState.COMPLETED)
        {
            // the target's copy has everything and runs once it has loaded it (long on a busy host): its watch
            // answers (ACTIVATED, or killed past its own deadline); a resolve now would have it killed mid-load
            out.phase = PHASE_AWAIT_ACK;
            out.deadlineNs = now + config.vmMigrationTimeoutNs;
            return;
        }
        out.deadlineNs = now + config.handoffTimeoutNs;
        view.listener.onError(hostId, new IllegalStateException("vm " + out.vm.vmId + "'s live migration " +
            out.migrationId + (failure != null ? ": " + failure : " ended " + status.state() +
            (status.error().isEmpty() ? "" : ": " + status.error()) + " (after " + status.totalTimeMs() + " ms, " +
            status.transferredBytes() + " bytes sent)")));
        // failed, cancelled, or unknown: the target decides (it kills its copy unless it runs), then answers
        out.phase = PHASE_RESOLVING;
        askToResolve(out);
    }

    /** Ask the target to decide a migration: a copy it prepares is made to run or killed at once, then it answers. */
    private void askToResolve(final Outgoing out)
    {
        resolve.wrap(resolveBuffer, 0).set(out.migrationId, out.vm.vmId, hostId, watermark());
        transport.send(out.peer, HostMessages.RESOLVE, resolveBuffer, 0, HostMessages.Resolve.LENGTH);
    }

    private void reclaim(final Outgoing out)
    {
        if (!out.reclaiming && view.registry.requestReclaim(out.vm.vmId, out.migrationId))
        {
            out.reclaiming = true; // else asked again at the next timeout or answer
        }
    }

    /**
     * A node's owner registry answered a reclaim (agent thread).
     *
     * @param migrationId the migration.
     * @param applied     whether this host keeps the VM (then no move of this migration can apply).
     * @param owner       the VM's owner after it.
     * @param ownerMigration the migration of the owner's last change.
     */
    void onReclaimAnswer(final long migrationId, final boolean applied, final int owner, final long ownerMigration)
    {
        final Outgoing out = find(migrationId);
        if (out == null)
        {
            return; // settled meanwhile by the target's ack
        }
        out.reclaiming = false;
        if (applied)
        {
            abort(out, AbortReason.RECLAIMED, "the target did not take it; the owner registry let this host reclaim it");
        }
        else if (owner == out.peer && ownerMigration == migrationId)
        {
            commit(out); // the target's move won: its ack was lost or is late
        }
        else
        {
            // by the protocol no one else can own it; never run it on a guess: drop it as gone
            view.listener.onError(hostId, new IllegalStateException("vm " + out.vm.vmId + " of migration " + migrationId +
                " is owned by host " + owner + " per the owner registry: this host no longer runs it"));
            commit(out);
        }
    }

    private Outgoing find(final long migrationId)
    {
        for (int i = 0, n = outgoing.size(); i < n; i++)
        {
            if (outgoing.get(i).migrationId == migrationId)
            {
                return outgoing.get(i);
            }
        }
        return null;
    }

    private void commit(final Outgoing out)
    {
        if (out.vm.driven && vmDriver != null && !out.copyGone)
        {
            // the target's copy runs: this paused one is quit first, so a source that journaled COMMITTED holds no
            // copy that can run (the hypervisor accepted its quit: retire, its exit off the migration's path; a crash
            // before it leaves recovery to quit it)
            if (!out.removing)
            {
                out.removing = true;
                final io.vmsched.vm.VmHandle handle = out.vm.handle;
                vmDriver.submit(driver ->
                {
                    driver.retire(handle);
                    return null;
                }, (none, failure) ->
                {
                    removeFailed(out.vm.vmId, failure);
                    out.copyGone = true;
                    if (find(out.migrationId) == out)
                    {
                        commit(out);
                    }
                });
            }
            return;
        }
        final long migrationId = out.migrationId;
        final HostVm vm = out.vm;
        journal.append(RecordType.COMMITTED, migrationId, vm.vmId, out.peer, 0, 0, 0);
        outgoing.remove(out);
        inFlight = outgoing.size();
        schedule.delete(vm.vmId);
        moved.accept(vm); // before it leaves the table: the balancer reads its load
        vms.drop(vm);
        view.owners.remove(vm.vmId, hostId); // a node knows only its own VMs (embedded: the target already took it)
        committed.incrementAndGet();
        view.committed.incrementAndGet();
        final long durationNs = System.nanoTime() - out.startNs;
        FlightEvents.handoffCommit(hostId, migrationId, vm.vmId, out.peer, durationNs);
        if (out.live != null)
        {
            view.listener.onLiveMigration(vm.vmId, hostId, out.peer, out.live);
        }
        view.listener.onMigrated(vm.vmId, hostId, out.peer, durationNs);
        requests.forwardHeld(vm, out.peer);
    }

    private void removeFailed(final long vmId, final String failure)
    {
        if (failure != null)
        {
            view.listener.onError(hostId, new IllegalStateException("vm " + vmId + " moved, but its paused copy " +
                "here could not be removed: " + failure));
        }
    }

    private void abort(final Outgoing out, final AbortReason code, final String reason)
    {
        final HostVm vm = out.vm;
        journal.appendText(RecordType.ABORTED, out.migrationId, vm.vmId, out.peer, 0, 0, 0, code.code(), reason);
        outgoing.remove(out);
        inFlight = outgoing.size();
        vm.out = null;
        try
        {
            // an abort comes before the stop was requested, or after the entry reached MIGRATING_OUT
            if (schedule.stateOf(vm.vmId) == EntryState.MIGRATING_OUT && !schedule.isPending(vm.vmId))
            {
                schedule.resume(vm.vmId);
            } // else it was never stopped (the failure came first): it is still runnable
        }
        catch (final RuntimeException ex)
        {
            view.listener.onError(hostId, ex);
        }
        if (vm.driven && out.liveStarted && vmDriver != null)
        {
            // the target answered that its copy does not run (killed first): this copy runs again if it paused
            final io.vmsched.vm.VmHandle handle = vm.handle;
            vmDriver.submit(driver ->
            {
                final io.vmsched.vm.VmState state = driver.state(handle);
                if (state.kind() == io.vmsched.vm.VmState.Kind.PAUSED || state.kind() == io.vmsched.vm.VmState.Kind.POSTMIGRATE)
                {
                    driver.resume(handle);
                }
                return state;
            }, (state, failure) -> resumeFailed(vm.vmId, failure));
        }
        aborts.incrementAndGet();
        view.aborted.incrementAndGet();
        FlightEvents.handoffAbort(hostId, FlightEvents.SOURCE, out.migrationId, vm.vmId, hostId, out.peer, code.label(), reason);
        view.listener.onAborted(vm.vmId, hostId, out.peer, code, reason);
        if (vm.heldRemoves > 0)
        {
            requests.removeHeld(vm);
        }
    }

    private void resumeFailed(final long vmId, final String failure)
    {
        if (failure != null)
        {
            view.listener.onError(hostId, new IllegalStateException("vm " + vmId + " stays here, but its copy could " +
                "not be made to run again: " + failure));
        }
    }

    private void fault(final Faults.Point point, final long migrationId)
    {
        if (faults.at(point, hostId, migrationId) == Faults.Action.THROW)
        {
            throw new Faults.InjectedFault(point);
        }
    }

    /**
     * @param moved told of each VM that leaves (source) or arrives (target) by a committed migration,
     *              on the agent thread.
     */
    void onMoved(final java.util.function.Consumer<HostVm> moved)
    {
        this.moved = moved;
    }
}
