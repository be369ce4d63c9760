package io.vmsched.cluster;

import io.vmsched.journal.AbortReason;
import io.vmsched.journal.Journal;
import io.vmsched.journal.JournalRecord;
import io.vmsched.journal.RecordType;
import io.vmsched.schedule.EntryState;
import io.vmsched.schedule.Schedule;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.collections.LongHashSet;

/**
 * Rebuilds a host from its journal before it starts: the VMs it owns run again from their last
 * journaled state; a migration a crash cut short is resolved by its commit point (committed if the
 * target journaled ACTIVATED, otherwise aborted on both sides); the target's outcomes are restored so a
 * refused transfer can never activate later. {@link #check} runs on every host before any
 * {@link #recover} writes, so a cluster that cannot start leaves every journal as it was.
 * <p>
 * A driven VM's live migration cut short is resolved by the journals the same way, then the hypervisor is made to
 * agree, in two steps every host takes in turn ({@link #settleCopies}, then {@link #runKept}): first the copies that
 * must not run are quit (an incoming copy whose migration aborted; a source's copy whose migration committed), then
 * a source that keeps its VM cancels the migration if the hypervisor still runs it and lets its copy run again, and
 * a copy that arrived (activated, so it is this host's) runs if the crash came before it was let run. The
 * order keeps the handoff's invariant after a crash too: two copies never run, and one does.
 * <p>
 * <b>Note:</b> Not threadsafe: the constructing thread, before the agent starts.
 */
final class Recovery
{
    private final int hostId;
    private final ClusterView view;
    private final Journal journal;
    private final Schedule schedule;
    private final VmTable vms;
    private final Requests requests;
    private final HandoffSource source;
    private final HandoffTarget target;
    private final HostBalloons balloons;
    private final Long2ObjectHashMap<HostVm> checked = new Long2ObjectHashMap<>(); // made by check, used by recover
    // a driven VM's copies to quit (an aborted arrival's, a committed departure's), and VMs kept whose copy must run
    private final java.util.List<io.vmsched.vm.VmHandle> stale = new java.util.ArrayList<>();
    private final LongHashSet kept = new LongHashSet();

    Recovery(final int hostId, final ClusterView view, final Journal journal, final Schedule schedule,
        final VmTable vms, final Requests requests, final HandoffSource source, final HandoffTarget target,
        final HostBalloons balloons)
    {
        this.balloons = balloons;
        this.hostId = hostId;
        this.view = view;
        this.journal = journal;
        this.schedule = schedule;
        this.vms = vms;
        this.requests = requests;
        this.source = source;
        this.target = target;
    }

    /**
     * Check, before anything is written, that {@link #recover} can rebuild this host: every
     * unresolved migration's peer exists, every VM's guest can be made, and they fit the schedule.
     * Changes nothing on disk.
     *
     * @throws IllegalArgumentException naming the host and what stops it.
     */
    void check(final JournalState state, final CommitPoint commitPoint)
    {
        final LongHashSet leaving = new LongHashSet();
        for (final JournalState.Pending pending : state.pendingOut())
        {
            if (pending.peer < 0 || pending.peer >= view.hosts)
            {
                throw new IllegalArgumentException("host " + hostId + "'s journal has migration " + pending.migrationId +
                    " of vm " + pending.vmId + " to host " + pending.peer + " unresolved, but the cluster has " +
                    view.hosts + " hosts: start it with all its hosts");
            }
            if (commitPoint.activated(pending.peer, pending.migrationId, pending.vmId))
            {
                leaving.add(pending.vmId);
            }
        }
        int owned = 0;
        for (final long vmId : state.owned().keySet())
        {
            owned += leaving.contains(vmId) ? 0 : 1;
        }
        checked.clear();
        final java.util.Set<Long> returning = new java.util.HashSet<>();
        state.pendingIn().forEach(pending -> returning.add(pending.vmId));
        for (final JournalState.Owned gone : state.departed().values())
        {
            // departed holds driven VMs only (JournalState.keepDeparted); one coming back (RECEIVED here) is decided
            // below: its new copy's socket path is the old one's
            if (gone.state != null && !returning.contains(gone.vmId))
            {
                // the commit sent its paused copy quit: a QEMU drops a command still queued when the connection
                // dies with this host, so one may be left (one long gone costs a failed adopt)
                try
                {
                    stale.add(io.vmsched.vm.VmHandle.decode(gone.state));
                }
                catch (final RuntimeException ex)
                {
                    // not a handle this build reads: no copy of it to quit
                }
            }
        }
        for (final JournalState.Pending pending : state.pendingIn())
        {
            if (commitPoint.movedHere(pending.peer, pending.migrationId, pending.vmId))
            {
                owned++;
                checked.put(pending.vmId, newVm(pending.vmId, pending.weight, pending.kind, pending.state));
            }
        }
        if (owned > schedule.capacity())
        {
            throw new IllegalArgumentException("host " + hostId + "'s journal holds " + owned + " VMs, more than its " +
                "schedule's " + schedule.capacity() + " slots: start it with HostConfig.scheduleCapacity >= " + owned);
        }
        for (final JournalState.Owned vm : state.owned().values())
        {
            if (!leaving.contains(vm.vmId))
            {
                checked.put(vm.vmId, newVm(vm.vmId, vm.weight, vm.kind, vm.state));
            }
        }
    }

    /**
     * After every host recovered: quit the copies of driven VMs that must not run (step 1 of 2, on every host before
     * any takes step 2). Blocks on the hypervisor (the starting thread).
     */
    void settleCopies()
    {
        for (final io.vmsched.vm.VmHandle copy : stale)
        {
            requests.quitCopy(copy);
        }
        stale.clear();
        requests.quitStrays(); // copies started just before the crash, journaled nowhere
    }

    /**
     * Step 2: each driven VM this host keeps after a migration cut short runs here again: its migration cancelled if
     * the hypervisor still runs it (the target's copy is gone by step 1), its copy resumed if it paused.
     */
    void runKept()
    {
        for (final long vmId : kept)
        {
            final HostVm vm = vms.get(vmId);
            if (vm != null)
            {
                requests.runAgain(vm);
            }
        }
        kept.clear();
    }

    private HostVm newVm(final long vmId, final int weight, final String kind, final byte[] state)
    {
        try
        {
            return requests.newVm(vmId, weight, kind, state);
        }
        catch (final RuntimeException ex)
        {
            throw new IllegalArgumentException("host " + hostId + ": vm " + vmId + " of kind '" + kind +
                "' cannot be re-created from its journaled state: " + ex.getMessage(), ex);
        }
    }

    /**
     * Rebuild the host ({@link #check} first, on every host).
     *
     * @return number of VMs this host owns after recovery.
     */
    int recover(final JournalState state, final CommitPoint commitPoint)
    {
        source.migrationSequence(state.maxMigrationSequence());
        for (final JournalState.Pending pending : state.pendingOut())
        {
            final boolean committed = commitPoint.activated(pending.peer, pending.migrationId, pending.vmId);
            final JournalState.Owned leaving = state.owned().get(pending.vmId);
            if (leaving != null && leaving.kind.startsWith(HostRuntime.DRIVEN_KIND_PREFIX))
            {
                if (committed)
                {
                    stale.add(io.vmsched.vm.VmHandle.decode(leaving.state)); // paused since it moved: quit it
                }
                else
                {
                    kept.add(pending.vmId);
                    if (view.registry != null)
                    {
                        source.abortedAtRecovery(pending.migrationId, pending.vmId, pending.peer); // its copy there goes
                    }
                }
            }
            journal.append(RecordType.RESOLVED, pending.migrationId, pending.vmId, pending.peer, committed ? 1 : 0, 0, 0);
            if (committed)
            {
                journal.append(RecordType.COMMITTED, pending.migrationId, pending.vmId, pending.peer, 0, 0, 0);
                state.owned().remove(pending.vmId);
            }
            else
            {
                journal.appendText(RecordType.ABORTED, pending.migrationId, pending.vmId, pending.peer, 0, 0, 0,
                    AbortReason.RECOVERY_TARGET_NEVER_ACTIVATED.code(), "recovery: the target never activated it");
            }
        }
        for (final JournalState.Pending pending : state.pendingIn())
        {
            if (commitPoint.movedHere(pending.peer, pending.migrationId, pending.vmId))
            {
                // the registry applied this host's move before the crash: the commit point was passed
                journal.append(RecordType.ACTIVATED, pending.migrationId, pending.vmId, pending.peer, 0, 0, 0);
                target.outcome(pending.migrationId, true);
                final HostVm vm = checked.get(pending.vmId);
                schedule.insert(pending.vmId, pending.weight, vm.external ? EntryState.SUSPENDED : EntryState.RUNNABLE, vm.guest);
                vms.add(vm);
                view.owners.put(pending.vmId, hostId);
                continue;
            }
            if (pending.kind != null && pending.state != null && pending.kind.startsWith(HostRuntime.DRIVEN_KIND_PREFIX))
            {
                stale.add(io.vmsched.vm.VmHandle.decode(pending.state)); // its incoming copy, running or not
            }
            journal.append(RecordType.RESOLVED, pending.migrationId, pending.vmId, pending.peer, 0, 0, 0);
            journal.appendText(RecordType.ABORTED, pending.migrationId, pending.vmId, pending.peer, 0, 0, 0,
                AbortReason.RECOVERY_RECEIVED_NOT_ACTIVATED.code(), "recovery: received but not activated before the crash");
            target.outcome(pending.migrationId, false);
        }
        // outcomes the sources may still ask about: at or above each source's journaled watermark
        state.forEachWatermark((source, watermark) -> target.watermark(source, watermark));
        for (final long migrationId : state.refusedHere())
        {
            if (migrationId >= state.watermark(JournalRecord.migrationSource(migrationId)))
            {
                target.outcome(migrationId, false);
            }
        }
        for (final long migrationId : state.activatedHere())
        {
            if (migrationId >= state.watermark(JournalRecord.migrationSource(migrationId)))
            {
                target.outcome(migrationId, true);
            }
        }
        for (final JournalState.Owned owned : state.owned().values())
        {
            final HostVm vm = checked.get(owned.vmId);
            schedule.insert(owned.vmId, owned.weight, vm.external ? EntryState.SUSPENDED : EntryState.RUNNABLE, vm.guest);
            vms.add(vm);
            view.owners.put(owned.vmId, hostId);
        }
        checked.clear();
        for (int i = 0; i < vms.size(); i++)
        {
            final HostVm vm = vms.at(i);
            if (vm.handle != null && vm.handle.incomingUri() != null)
            {
                kept.add(vm.vmId); // it arrived by migration: activated, maybe not let run yet when the host crashed
            }
            requests.adoptAgain(vm); // a hypervisor's VM runs on: the host's new driver takes it again
        }
        journal.append(RecordType.HOST_STARTED, 0, -1, -1, vms.size(), 0, 0);
        // a ballooned guest restarts at its ballooned size: its balloon is asked again, on its first slice
        balloons.lastRequestId(state.maxBalloonRequestId());
        final long now = System.nanoTime();
        for (final JournalState.Owned owned : state.owned().values())
        {
            final long memory = state.balloonedMemory(owned.vmId);
            final HostVm vm = vms.get(owned.vmId);
            if (memory >= 0 && vm != null && !vm.external)
            {
                balloons.request(vm, memory, io.vmsched.balloon.BalloonRequest.UNCHANGED, 0, now);
            }
        }
        return vms.size();
    }
}
